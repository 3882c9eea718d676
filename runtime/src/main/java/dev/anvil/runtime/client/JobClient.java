package dev.anvil.runtime.client;

import dev.anvil.coordinator.JobCoordinator;
import dev.anvil.coordinator.JobProtocol;
import dev.anvil.coordinator.JobProtocol.Failed;
import dev.anvil.coordinator.JobProtocol.Finished;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Rejected;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecWriter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Submits jobs to a cluster's coordinators and follows them, from any member (node or client). The
 * follower renews its watch every second, so it keeps hearing from a job whose coordinator moved to
 * another node (which does not know the old one's watchers). Every future it returns also ends,
 * with a {@link ClusterLostException}, when this member loses the cluster ({@link ClusterLoss}):
 * downed, terminated, or no reachable node for a while.
 */
public final class JobClient {
  private JobClient() {}

  /** How often a follower renews its watch. */
  static final Duration REWATCH = Duration.ofSeconds(1);

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
  public static CompletionStage<Outcome> submit(
      ActorSystem<?> system,
      String jobId,
      JobSpec spec,
      int workers,
      Consumer<JobUpdate> listener) {
    String text = JobSpecWriter.toHocon(spec);
    return follow(
        system, jobId, listener, watcher -> new JobProtocol.Submit(text, workers, watcher));
  }

  /**
   * As {@link #submit}, but the follower never renews its watch: nothing but the cluster itself
   * restarts the job's coordinator after its node is lost (a renewed watch would start it again on
   * another node), and the job's end is heard only if its first coordinator ends it.
   */
  public static CompletionStage<Outcome> submitWithoutRenewal(
      ActorSystem<?> system,
      String jobId,
      JobSpec spec,
      int workers,
      Consumer<JobUpdate> listener) {
    String text = JobSpecWriter.toHocon(spec);
    return watching(
            system,
            jobId,
            "job-client-once-",
            false,
            watcher -> new JobProtocol.Submit(text, workers, watcher),
            listener,
            u -> false)
        .thenApply(u -> outcome(jobId, u));
  }

  /** Follows job {@code jobId}, already submitted (running or finished). */
  public static CompletionStage<Outcome> watch(
      ActorSystem<?> system, String jobId, Consumer<JobUpdate> listener) {
    return follow(system, jobId, listener, JobProtocol.Watch::new);
  }

  /** Pauses job {@code jobId} at its next round boundary; completes once it is paused. */
  public static CompletionStage<JobUpdate> pause(ActorSystem<?> system, String jobId) {
    return control(system, jobId, JobProtocol.Pause::new, u -> u instanceof JobProtocol.Paused);
  }

  /** Resumes paused job {@code jobId}; completes once it trains again. */
  public static CompletionStage<JobUpdate> resume(ActorSystem<?> system, String jobId) {
    return control(system, jobId, JobProtocol.Resume::new, u -> u instanceof JobProtocol.Accepted);
  }

  /** Cancels job {@code jobId}; completes with its end (Failed "cancelled...", or Finished). */
  public static CompletionStage<JobUpdate> cancel(
      ActorSystem<?> system, String jobId, String reason) {
    return control(system, jobId, w -> new JobProtocol.Cancel(reason, w), u -> false);
  }

  /**
   * Starts job {@code jobId} from an exported checkpoint file's bytes on {@code workers} workers
   * (0: as the checkpoint's job had); completes once it trains (or is refused).
   */
  public static CompletionStage<JobUpdate> importCheckpoint(
      ActorSystem<?> system, String jobId, byte[] checkpoint, int workers) {
    return control(
        system,
        jobId,
        w -> new JobProtocol.Import(checkpoint, workers, w),
        u -> u instanceof JobProtocol.Accepted);
  }

  /** The newest checkpoint of job {@code jobId} that verifies (or an error saying why none). */
  public static CompletionStage<JobProtocol.Exported> export(
      ActorSystem<?> system, String jobId, Duration timeout) {
    CompletableFuture<JobProtocol.Exported> answer = new CompletableFuture<>();
    ClusterSharding.get(system)
        .entityRefFor(JobCoordinator.TYPE_KEY, jobId)
        .<JobUpdate>ask(JobProtocol.Export::new, timeout)
        .whenComplete(
            (u, e) -> {
              if (e != null) {
                answer.completeExceptionally(e);
              } else {
                answer.complete((JobProtocol.Exported) u);
              }
            });
    endOnLoss(system, answer);
    return answer;
  }

  /** Completes {@code answer} with a {@link ClusterLostException} if the cluster is lost first. */
  private static void endOnLoss(ActorSystem<?> system, CompletableFuture<?> answer) {
    ClusterLoss.get(system).endOnLoss(answer);
  }

  /**
   * Sends a control command; completes with the first update that {@code answers} it, or that ends
   * the job (Finished, Failed, Rejected). Renews its watch like a follower.
   */
  private static CompletionStage<JobUpdate> control(
      ActorSystem<?> system,
      String jobId,
      java.util.function.Function<ActorRef<JobUpdate>, JobCoordinator.Command> command,
      java.util.function.Predicate<JobUpdate> answers) {
    return watching(system, jobId, "job-control-", true, command, u -> {}, answers);
  }

  /** Follows the job with {@code listener} from {@code first} to its end. */
  private static CompletionStage<Outcome> follow(
      ActorSystem<?> system,
      String jobId,
      Consumer<JobUpdate> listener,
      java.util.function.Function<ActorRef<JobUpdate>, JobCoordinator.Command> first) {
    return watching(system, jobId, "job-client-", true, first, listener, u -> false)
        .thenApply(u -> outcome(jobId, u));
  }

  /** The outcome of a job that ended with {@code end} (Finished, Failed or Rejected). */
  private static Outcome outcome(String jobId, JobUpdate end) {
    if (end instanceof Finished f) {
      return new Outcome(jobId, f.resultJson(), null);
    }
    return new Outcome(
        jobId, null, end instanceof Failed f ? f.reason() : ((Rejected) end).reason());
  }

  private enum Rewatch {
    INSTANCE
  }

  /**
   * An actor that sends {@code first}, passes every update to {@code listener}, renews its watch
   * every {@link #REWATCH} if {@code renew}, and completes with the first update {@code answers}
   * accepts or that ends the job.
   */
  private static CompletionStage<JobUpdate> watching(
      ActorSystem<?> system,
      String jobId,
      String name,
      boolean renew,
      java.util.function.Function<ActorRef<JobUpdate>, JobCoordinator.Command> first,
      Consumer<JobUpdate> listener,
      java.util.function.Predicate<JobUpdate> answers) {
    CompletableFuture<JobUpdate> answer = new CompletableFuture<>();
    EntityRef<JobCoordinator.Command> coordinator =
        ClusterSharding.get(system).entityRefFor(JobCoordinator.TYPE_KEY, jobId);
    ActorRef<Object> watcher =
        system.systemActorOf(
            Behaviors.withTimers(
                timers -> {
                  if (renew) {
                    timers.startTimerWithFixedDelay(Rewatch.INSTANCE, REWATCH);
                  }
                  return Behaviors.receive(
                      (ctx, message) -> {
                        if (answer.isDone()) {
                          return Behaviors.stopped(); // answered, or the cluster was lost
                        }
                        if (message == Rewatch.INSTANCE) {
                          coordinator.tell(new JobProtocol.Watch(ctx.getSelf().narrow()));
                          return Behaviors.same();
                        }
                        JobUpdate u = (JobUpdate) message;
                        listener.accept(u);
                        if (answers.test(u)
                            || u instanceof Finished
                            || u instanceof Failed
                            || u instanceof Rejected) {
                          answer.complete(u);
                          return Behaviors.stopped();
                        }
                        return Behaviors.same();
                      });
                }),
            name + jobId + "-" + System.nanoTime(),
            Props.empty());
    coordinator.tell(first.apply(watcher.narrow()));
    endOnLoss(system, answer);
    return answer;
  }
}
