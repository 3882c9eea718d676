package dev.anvil.runtime.node;

import dev.anvil.coordinator.JobProtocol;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.client.ClusterLostException;
import dev.anvil.runtime.client.JobClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A job submitted through {@link AnvilNode#submit}: its id, its result once it finishes (failed
 * with {@link JobFailedException} when it does not, with {@link ClusterLostException} when this
 * node loses the cluster first), and its controls. Its futures complete on a thread of the node's
 * actor system: stages chained to them with the plain (not {@code ...Async}) methods run there and
 * must not block.
 */
public final class JobHandle {
  private final ActorSystem<?> system;
  private final String jobId;
  private final CompletableFuture<TrainingResult> result;

  JobHandle(ActorSystem<?> system, String jobId, CompletionStage<JobClient.Outcome> outcome) {
    this.system = system;
    this.jobId = jobId;
    this.result =
        outcome
            .toCompletableFuture()
            .thenApply(
                o -> {
                  if (!o.succeeded()) {
                    throw new JobFailedException(jobId, o.failure());
                  }
                  return ResultJson.parse(o.resultJson());
                });
  }

  public String jobId() {
    return jobId;
  }

  /** The result of the finished job; completes exceptionally with the reason it failed. */
  public CompletionStage<TrainingResult> result() {
    return result;
  }

  /** Pauses the job at its next round boundary; completes once it is paused. */
  public CompletionStage<Void> pause() {
    return JobClient.pause(system, jobId).thenAccept(u -> expect(u, JobProtocol.Paused.class));
  }

  /** Resumes a paused job; completes once it trains again. */
  public CompletionStage<Void> resume() {
    return JobClient.resume(system, jobId).thenAccept(u -> expect(u, JobProtocol.Accepted.class));
  }

  /**
   * Cancels the job; completes once it has ended. {@code reason} is recorded with it and is the
   * message of the {@link JobFailedException} that {@link #result()} then fails with.
   */
  public CompletionStage<Void> cancel(String reason) {
    java.util.Objects.requireNonNull(reason, "reason");
    return JobClient.cancel(system, jobId, reason).thenAccept(u -> {});
  }

  private void expect(JobProtocol.JobUpdate u, Class<?> wanted) {
    if (!wanted.isInstance(u)) {
      String why =
          u instanceof JobProtocol.Failed f
              ? f.reason()
              : u instanceof JobProtocol.Rejected r ? r.reason() : u.toString();
      throw new JobFailedException(jobId, why);
    }
  }

  /** A job that failed, was refused or cancelled; the message says why. */
  public static final class JobFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String jobId;

    public JobFailedException(String jobId, String reason) {
      super("job " + jobId + ": " + reason);
      this.jobId = jobId;
    }

    public String jobId() {
      return jobId;
    }
  }
}
