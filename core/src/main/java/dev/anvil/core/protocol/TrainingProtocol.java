package dev.anvil.core.protocol;

import dev.anvil.core.train.TrainingState;
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
      permits PrepareJob, ComputeNodes, PlaneCompute, ReleaseJob {}

  /** What a worker answers with. */
  public sealed interface WorkerReply extends AnvilSerializable
      permits Prepared, PrepareFailed, NodeResult, ParamsMissing, PlaneDone, PlaneFailed {}

  /**
   * Load the job's data and model; answer {@link Prepared} with the data fingerprint and the canary
   * gradient's hash, which the coordinator compares with its own, or {@link PrepareFailed}. {@code
   * spec} is the job in the form of {@code JobSpecWriter}.
   */
  public record PrepareJob(String jobId, long epoch, String spec, ActorRef<WorkerReply> replyTo)
      implements WorkerCommand {}

  /**
   * A worker is ready for the job. {@code nodeStartedMillis}: when its node's process started
   * (epoch ms), so that the coordinator can tell how long a restarted node took to rejoin. {@code
   * dataPlane}: where its node's data plane listens ({@code host:port}), null when it has none.
   */
  public record Prepared(
      String jobId,
      long epoch,
      String worker,
      String dataFingerprint,
      String canarySha256,
      String kernel,
      ActorRef<WorkerCommand> self,
      long nodeStartedMillis,
      String dataPlane)
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

  /**
   * Compute 0-based {@code round} as worker {@code index} of data-plane view {@code view}: the
   * gradient sums of this worker's tree nodes, summed with the other workers' over the data plane
   * (docs/data-plane.md), then the job's {@code ParameterUpdate} applied to the worker's own copy
   * of the training state. {@code members}: the view's workers' data-plane addresses by index, then
   * the coordinator's (the observer, which takes the sum). {@code plan}: every worker's nodes in
   * index order, {@code planSizes[w]} of them for worker w. {@code state}: the training state after
   * {@code round} rounds, sent when the view starts; null when the worker should have it from the
   * view's previous round (if it has not, it answers {@link ParamsMissing}). Answered with {@link
   * PlaneDone} or {@link PlaneFailed}.
   */
  public record PlaneCompute(
      String jobId,
      long epoch,
      long round,
      long view,
      int index,
      String[] members,
      TreeNode[] plan,
      int[] planSizes,
      TrainingState state,
      ActorRef<WorkerReply> replyTo)
      implements WorkerCommand {}

  /**
   * A worker did its part of a plane round and holds the state after it. {@code computeNanos}: its
   * stacked pass; {@code exchangeNanos}: its allreduce.
   */
  public record PlaneDone(
      String jobId,
      long epoch,
      long round,
      long view,
      String worker,
      long computeNanos,
      long exchangeNanos)
      implements WorkerReply {}

  /**
   * A worker could not do its part of a plane round ({@code reason} names what failed; {@code
   * blamed}: the index in the view of the worker the failure points at, or -1).
   */
  public record PlaneFailed(
      String jobId, long epoch, long round, long view, String worker, String reason, int blamed)
      implements WorkerReply {}

  /** The job is over (or this worker no longer takes part): drop its data and caches. */
  public record ReleaseJob(String jobId) implements WorkerCommand {}
}
