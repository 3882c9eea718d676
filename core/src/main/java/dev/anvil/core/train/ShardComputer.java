package dev.anvil.core.train;

import dev.anvil.core.data.Dataset;
import dev.anvil.core.model.Batch;
import dev.anvil.core.model.Model;

/**
 * Computes the gradient sum of a tree node of logical shards for one round, one shard at a time
 * with the same shapes, single-threaded: the unit of work of a worker. Owned by one thread.
 */
public final class ShardComputer {
  private final Model model;
  private final Dataset train;
  private final ShardSampler sampler;
  private final ReductionTree tree;
  private final Batch batch;
  private final Model.Workspace workspace;
  private final GradientBuffers buffers;

  public ShardComputer(PreparedJob job, GradientBuffers buffers) {
    this.buffers = buffers;
    this.model = job.model();
    this.train = job.data().train();
    this.sampler = job.sampler();
    this.tree = job.tree();
    this.batch = new Batch(sampler.perShardBatch(), train.features(), train.outputs());
    this.workspace = model.newWorkspace(sampler.perShardBatch());
  }

  /** The sum over the shards of {@code node} in 0-based round {@code round}, in tree order. */
  public GradientSum compute(float[] params, long round, TreeNode node) {
    return tree.reduce(
        node, n -> n.level() == 0 ? shard(params, round, n.index()) : null, buffers::release);
  }

  /** One logical shard's gradient sum, loss sum and sample count. */
  public GradientSum shard(float[] params, long round, int shard) {
    long epoch = sampler.epochOf(round);
    batch.fill(
        train, sampler.epochOrder(shard, epoch), sampler.offsetOf(round), sampler.perShardBatch());
    float[] grad = buffers.acquire();
    double loss = model.gradientSum(params, batch, grad, workspace);
    return new GradientSum(grad, loss, batch.rows());
  }
}
