package dev.anvil.runtime;

import dev.anvil.coordinator.JobCoordinator;
import dev.anvil.coordinator.JobProtocol;
import dev.anvil.coordinator.JobProtocol.Failed;
import dev.anvil.coordinator.JobProtocol.Finished;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Rejected;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** Submits jobs to a cluster's coordinators and follows them, from any member (node or client). */
public final class JobClient {
  private JobClient() {}

  /** How a job ended: finished with a result.json, or failed/rejected with a reason. */
  public record Outcome(String jobId, String resultJson, String failure) {
    public boolean succeeded() {
      return resultJson != null;
    }
  }

  /**
   * Submits {@code spec} as job {@code jobId} on {@code workers} workers; every update goes to
   * {@code listener} (on an actor thread: keep it short). Completes when the job ends.
   */
  public static CompletionStage<Outcome> submit(ActorSystem<?> system, String jobId,
      JobSpec spec, int workers, Consumer<JobUpdate> listener) {
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    ActorRef<JobUpdate> watcher = system.systemActorOf(watch(jobId, listener, outcome),
        "job-client-" + jobId + "-" + System.nanoTime(), Props.empty());
    ClusterSharding.get(system).entityRefFor(JobCoordinator.TYPE_KEY, jobId)
        .tell(new JobProtocol.Submit(JobSpecWriter.toHocon(spec), workers, watcher));
    return outcome;
  }

  private static Behavior<JobUpdate> watch(String jobId, Consumer<JobUpdate> listener,
      CompletableFuture<Outcome> outcome) {
    return Behaviors.receive((ctx, update) -> {
      listener.accept(update);
      if (update instanceof Finished f) {
        outcome.complete(new Outcome(jobId, f.resultJson(), null));
        return Behaviors.stopped();
      } else if (update instanceof Failed f) {
        outcome.complete(new Outcome(jobId, null, f.reason()));
        return Behaviors.stopped();
      } else if (update instanceof Rejected r) {
        outcome.complete(new Outcome(jobId, null, r.reason()));
        return Behaviors.stopped();
      }
      return Behaviors.same();
    });
  }
}
