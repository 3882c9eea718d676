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

  /**
   * Stop the job at the next round boundary, after a checkpoint of it: the workers are released and
   * the job waits for {@link Resume}. The sender becomes a watcher and hears {@link Paused}.
   */
  public record Pause(ActorRef<JobUpdate> replyTo) implements JobCoordinator.Command {}

  /** Continue a paused job from its checkpoint; the sender becomes a watcher. */
  public record Resume(ActorRef<JobUpdate> replyTo) implements JobCoordinator.Command {}

  /** End the job for good; watchers hear {@link Failed} with a reason starting "cancelled". */
  public record Cancel(String reason, ActorRef<JobUpdate> replyTo)
      implements JobCoordinator.Command {}

  /**
   * Start this (unknown) job from an exported checkpoint ({@code CheckpointFormat} bytes) on {@code
   * workers} workers (0: as many as the checkpoint's job had). Refused, recording nothing, when the
   * data here has another fingerprint or the kernel differs.
   */
  public record Import(byte[] checkpoint, int workers, ActorRef<JobUpdate> replyTo)
      implements JobCoordinator.Command {}

  /** Send back the job's newest checkpoint that verifies, as {@link Exported}. */
  public record Export(ActorRef<JobUpdate> replyTo) implements JobCoordinator.Command {}

  /** Send back where the job runs now, as {@link Placement}. */
  public record GetPlacement(ActorRef<Placement> replyTo) implements JobCoordinator.Command {}

  /**
   * Where job {@code jobId} runs: its coordinator's node ({@code coordinator}, host:port, and that
   * incarnation's uid) and, index by index, each node incarnation with its workers in the job
   * ({@code nodes}, {@code nodeUids}, {@code workers}; empty before the workers are recruited and
   * after the job ended). {@code phase}: the coordinator's phase (e.g. training, preparing, paused,
   * done); {@code round}: the newest committed round.
   */
  public record Placement(
      String jobId,
      String phase,
      long round,
      String coordinator,
      long coordinatorUid,
      String[] nodes,
      long[] nodeUids,
      int[] workers)
      implements AnvilSerializable {}

  /** What a watcher hears. */
  public sealed interface JobUpdate extends AnvilSerializable
      permits Accepted,
          Rejected,
          Progress,
          Finished,
          Failed,
          Paused,
          Degraded,
          Exported,
          Recovered {}

  /** The job recovered from a fault (a lost node, a late worker, a restart, an outage). */
  public record Recovered(String jobId, dev.anvil.core.train.Recovery recovery)
      implements JobUpdate {}

  /** The job is paused after round {@code round}, checkpointed; it holds no workers. */
  public record Paused(String jobId, long round) implements JobUpdate {}

  /**
   * The job cannot record rounds ({@code reason}); it has stopped computing ahead and retries.
   * Progress resumes when the journal answers again.
   */
  public record Degraded(String jobId, String reason) implements JobUpdate {}

  /** The newest verified checkpoint (round {@code round}), or {@code error} saying why none. */
  public record Exported(String jobId, long round, byte[] checkpoint, String error)
      implements JobUpdate {}

  /** Training started; {@code coordinator} is the address (host:port) of the coordinator's node. */
  public record Accepted(
      String jobId, long totalRounds, String model, int workers, int nodes, String coordinator)
      implements JobUpdate {}

  /** The spec was refused; nothing was started or recorded. */
  public record Rejected(String jobId, String reason) implements JobUpdate {}

  /** Rounds 1..round are committed (durable in the journal). */
  public record Progress(
      String jobId, long round, long totalRounds, double loss, double samplesPerSecond)
      implements JobUpdate {}

  /** The job is done; {@code resultJson} is its result.json. */
  public record Finished(String jobId, String resultJson) implements JobUpdate {}

  public record Failed(String jobId, String reason) implements JobUpdate {}
}
