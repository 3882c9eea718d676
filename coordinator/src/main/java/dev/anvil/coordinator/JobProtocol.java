package dev.anvil.coordinator;

import dev.anvil.core.wire.AnvilSerializable;
import org.apache.pekko.actor.typed.ActorRef;

/** What clients (the CLI, the embedding API) send to a job's coordinator and hear back. */
public final class JobProtocol {
  private JobProtocol() {}

  /**
   * Start job {@code spec} (HOCON in {@code JobSpecWriter}'s form) on {@code workers} workers;
   * updates go to {@code replyTo}. Submitting a job id again re-attaches to it.
   */
  public record Submit(String spec, int workers, ActorRef<JobUpdate> replyTo)
      implements JobCoordinator.Command {}

  /** Follow a job's progress and result. */
  public record Watch(ActorRef<JobUpdate> replyTo) implements JobCoordinator.Command {}

  /** What a watcher hears. */
  public sealed interface JobUpdate extends AnvilSerializable
      permits Accepted, Rejected, Progress, Finished, Failed {}

  /** Training started; {@code coordinator} is the address (host:port) of the coordinator's node. */
  public record Accepted(String jobId, long totalRounds, String model, int workers, int nodes,
      String coordinator) implements JobUpdate {}

  /** The spec was refused; nothing was started or recorded. */
  public record Rejected(String jobId, String reason) implements JobUpdate {}

  /** Rounds 1..round are committed (durable in the journal). */
  public record Progress(String jobId, long round, long totalRounds, double loss,
      double samplesPerSecond) implements JobUpdate {}

  /** The job is done; {@code resultJson} is its result.json. */
  public record Finished(String jobId, String resultJson) implements JobUpdate {}

  public record Failed(String jobId, String reason) implements JobUpdate {}
}
