package dev.anvil.core.train;

import dev.anvil.core.data.Dataset;
import dev.anvil.core.model.Batch;
import dev.anvil.core.model.Model;
import dev.anvil.core.model.Stacking;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Computes the gradient sums of tree nodes of logical shards for one round, single-threaded: the
 * unit of work of a worker. Owned by one thread.
 *
 * <p>When the model has a stacked path that {@link StackGuard} found sound here, the shards of
 * several nodes go through forward and backward-data as one tall batch (each product in calls as
 * tall as the guard allowed it), and each node's gradient is built tile by tile: per parameter
 * tile, each shard's tile is computed and the tiles are added in the reduction tree's order while
 * they are in cache, then written once. Otherwise each shard runs alone and the node sums are added
 * whole. Both give the same bits.
 */
public final class ShardComputer {
  private final Model model;
  private final Dataset train;
  private final ShardSampler sampler;
  private final ReductionTree tree;
  private final Batch batch;
  private final Model.Workspace workspace;
  private final GradientBuffers buffers;
  private final int rows;

  private final Stacking stacking;
  private final StackReport report;
  private final int[] bounds;
  private final Batch stack;
  private final Model.Workspace stackSpace;
  private final int[] chunks;
  private final double[] shardLosses;
  private final float[][] tileScratch;

  /** Hands the array of a sum this computer returned back, once its holder is done with it. */
  public void release(float[] grad) {
    buffers.release(grad);
  }

  public ShardComputer(PreparedJob job, GradientBuffers buffers) {
    this.buffers = buffers;
    this.model = job.model();
    this.train = job.data().train();
    this.sampler = job.sampler();
    this.tree = job.tree();
    this.rows = sampler.perShardBatch();
    this.batch = new Batch(rows, train.features(), train.outputs());
    this.workspace = model.newWorkspace(rows);
    this.report = job.stackReport();
    this.stacking = report.problem() == null ? model.stacking() : null;
    if (stacking != null) {
      int height = report.maxHeight();
      this.bounds = stacking.tileBounds();
      this.stack = new Batch(height * rows, train.features(), train.outputs());
      this.stackSpace = stacking.newWorkspace(height * rows);
      this.chunks = report.chunks();
      this.shardLosses = new double[height];
      int widest = 0;
      for (int t = 0; t + 1 < bounds.length; t++) {
        widest = Math.max(widest, bounds[t + 1] - bounds[t]);
      }
      this.tileScratch = new float[tree.root().level() + 2][widest];
    } else {
      this.bounds = null;
      this.stack = null;
      this.stackSpace = null;
      this.chunks = null;
      this.shardLosses = null;
      this.tileScratch = null;
    }
  }

  /** The sum over the shards of {@code node} in 0-based round {@code round}, in tree order. */
  public GradientSum compute(float[] params, long round, TreeNode node) {
    return computeAll(params, round, List.of(node)).get(0);
  }

  /**
   * The sums of {@code nodes} in round {@code round}, in the order given: the same bits whether
   * they are computed together, one by one, or shard by shard.
   */
  public List<GradientSum> computeAll(float[] params, long round, List<TreeNode> nodes) {
    List<GradientSum> out = new ArrayList<>(nodes.size());
    if (stacking == null) {
      for (TreeNode node : nodes) {
        out.add(shardByShard(params, round, node));
      }
      return out;
    }
    List<TreeNode> units = new ArrayList<>();
    for (TreeNode node : nodes) {
      split(node, units);
    }
    Map<TreeNode, GradientSum> known = new HashMap<>();
    int i = 0;
    while (i < units.size()) {
      int end = i;
      int height = 0;
      while (end < units.size() && height + leaves(units.get(end)) <= report.maxHeight()) {
        height += leaves(units.get(end++));
      }
      stacked(params, round, units.subList(i, end), known);
      i = end;
    }
    for (TreeNode node : nodes) {
      out.add(tree.reduce(node, known::get, buffers::release));
    }
    return out;
  }

  /** One logical shard's gradient sum, loss sum and sample count, the shard alone. */
  public GradientSum shard(float[] params, long round, int shard) {
    long epoch = sampler.epochOf(round);
    batch.fill(train, sampler.epochOrder(shard, epoch), sampler.offsetOf(round), rows);
    float[] grad = buffers.acquire();
    double loss = model.gradientSum(params, batch, grad, workspace);
    return new GradientSum(grad, loss, batch.rows());
  }

  private GradientSum shardByShard(float[] params, long round, TreeNode node) {
    return tree.reduce(
        node, n -> n.level() == 0 ? shard(params, round, n.index()) : null, buffers::release);
  }

  /** Adds {@code node} to {@code units}, or its children when it is taller than one pass. */
  private void split(TreeNode node, List<TreeNode> units) {
    if (leaves(node) <= report.maxHeight()) {
      units.add(node);
      return;
    }
    split(node.left(), units);
    if (tree.exists(node.right())) {
      split(node.right(), units);
    }
  }

  private int leaves(TreeNode node) {
    return node.to(tree.leaves()) - node.from();
  }

  private void stacked(
      float[] params, long round, List<TreeNode> group, Map<TreeNode, GradientSum> known) {
    long epoch = sampler.epochOf(round);
    int offset = sampler.offsetOf(round);
    int at = 0;
    for (TreeNode unit : group) {
      for (int s = unit.from(); s < unit.to(tree.leaves()); s++) {
        stack.fillAt(at, train, sampler.epochOrder(s, epoch), offset, rows);
        at += rows;
      }
    }
    stacking.forwardBackward(params, stack, rows, chunks, shardLosses, stackSpace);
    int base = 0;
    for (TreeNode unit : group) {
      float[] grad = buffers.acquire();
      int first = base - unit.from();
      for (int t = 0; t + 1 < bounds.length; t++) {
        int from = bounds[t];
        int to = bounds[t + 1];
        if (unit.level() == 0) {
          stacking.tileGradient(
              stack, stackSpace, first + unit.index(), rows, from, to, grad, from);
        } else {
          sumTile(unit, first, from, to, 0);
          System.arraycopy(tileScratch[0], 0, grad, from, to - from);
        }
      }
      known.put(unit, new GradientSum(grad, lossSum(unit, first), (long) leaves(unit) * rows));
      base += leaves(unit);
    }
  }

  /**
   * Writes {@code node}'s sum of the tile {@code [from, to)} into {@code tileScratch[depth]}: left
   * child there, right child one level deeper, then added into it, as {@link ReductionTree#reduce}
   * adds whole vectors. Shard s sits at position {@code first + s} of the stack. Both operands of
   * every add start at index 0: the JIT vectorizes that loop, not one with an offset into one
   * operand (3.6x slower on 100k floats).
   */
  private void sumTile(TreeNode node, int first, int from, int to, int depth) {
    float[] dst = tileScratch[depth];
    if (node.level() == 0) {
      stacking.tileGradient(stack, stackSpace, first + node.index(), rows, from, to, dst, 0);
      return;
    }
    sumTile(node.left(), first, from, to, depth);
    TreeNode right = node.right();
    if (!tree.exists(right)) {
      return;
    }
    sumTile(right, first, from, to, depth + 1);
    float[] tmp = tileScratch[depth + 1];
    int n = to - from;
    for (int i = 0; i < n; i++) {
      dst[i] += tmp[i];
    }
  }

  /** {@code node}'s loss sum, added in the tree's order like {@link GradientSum#plus}. */
  private double lossSum(TreeNode node, int first) {
    if (node.level() == 0) {
      return shardLosses[first + node.index()];
    }
    double left = lossSum(node.left(), first);
    TreeNode right = node.right();
    return tree.exists(right) ? left + lossSum(right, first) : left;
  }
}
