package dev.anvil.core.protocol;

import dev.anvil.core.train.TreeNode;
import dev.anvil.core.wire.AnvilSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The messages between a job's coordinator and the workers (docs/design.md, "The round protocol").
 * Every message carries the job id and the coordinator's {@code epoch} (its incarnation): a worker
 * answers an older epoch's requests never again once it has seen a newer one.
 */
public final class TrainingProtocol {
  private TrainingProtocol() {}

  /** Every worker slot of every node registers itself with the receptionist under this key. */
  public static final ServiceKey<WorkerCommand> WORKERS =
      ServiceKey.create(WorkerCommand.class, "anvil-worker");

  /** What a worker accepts. */
  public sealed interface WorkerCommand extends AnvilSerializable
      permits PrepareJob, ComputeNodes, ReleaseJob {}

  /** What a worker answers with. */
  public sealed interface WorkerReply extends AnvilSerializable
      permits Prepared, PrepareFailed, NodeResult, ParamsMissing {}

  /**
   * Load the job's data and model; answer {@link Prepared} with the data fingerprint and the canary
   * gradient's hash, which the coordinator compares with its own, or {@link PrepareFailed}. {@code
   * spec} is the job in the form of {@code JobSpecWriter}.
   */
  public record PrepareJob(String jobId, long epoch, String spec, ActorRef<WorkerReply> replyTo)
      implements WorkerCommand {}

  /**
   * A worker is ready for the job. {@code nodeStartedMillis}: when its node's process started
   * (epoch ms), so that the coordinator can tell how long a restarted node took to rejoin.
   */
  public record Prepared(
      String jobId,
      long epoch,
      String worker,
      String dataFingerprint,
      String canarySha256,
      String kernel,
      ActorRef<WorkerCommand> self,
      long nodeStartedMillis)
      implements WorkerReply {}

  public record PrepareFailed(String jobId, long epoch, String worker, String reason)
      implements WorkerReply {}

  /**
   * Compute the gradient sums of {@code nodes} (whole tree nodes of logical shards) for 0-based
   * {@code round}, from the parameters after {@code round} rounds. {@code params} is null when the
   * coordinator already sent this round's parameters to this worker; a worker that does not have
   * them answers {@link ParamsMissing}. One {@link NodeResult} per node.
   */
  public record ComputeNodes(
      String jobId,
      long epoch,
      long round,
      float[] params,
      TreeNode[] nodes,
      ActorRef<WorkerReply> replyTo)
      implements WorkerCommand {}

  public record NodeResult(
      String jobId,
      long epoch,
      long round,
      TreeNode node,
      float[] grad,
      double lossSum,
      long samples,
      String worker,
      long computeNanos)
      implements WorkerReply {}

  public record ParamsMissing(String jobId, long epoch, long round, String worker)
      implements WorkerReply {}

  /** The job is over (or this worker no longer takes part): drop its data and caches. */
  public record ReleaseJob(String jobId) implements WorkerCommand {}
}
