package dev.anvil.core.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Which tree nodes each of W workers computes: worker w owns the contiguous shards {@code [w*L/W,
 * (w+1)*L/W)} (balanced to within one shard) and sends one pre-summed value per node of that
 * range's canonical cover. The assignment changes only which machine adds what, never the bits of
 * the result.
 */
public final class BlockPlan {
  private BlockPlan() {}

  /** Nodes per worker, for {@code min(workers, L)} workers. */
  public static List<List<TreeNode>> balanced(ReductionTree tree, int workers) {
    if (workers <= 0) {
      throw new IllegalArgumentException("workers must be > 0, was " + workers);
    }
    int leaves = tree.leaves();
    int used = Math.min(workers, leaves);
    List<List<TreeNode>> plan = new ArrayList<>(used);
    for (int w = 0; w < used; w++) {
      int from = (int) ((long) w * leaves / used);
      int to = (int) ((long) (w + 1) * leaves / used);
      plan.add(List.copyOf(tree.cover(from, to)));
    }
    return List.copyOf(plan);
  }
}
