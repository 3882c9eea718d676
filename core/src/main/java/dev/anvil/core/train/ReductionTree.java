package dev.anvil.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The fixed binary tree over L logical shards in which every round's gradient sums are added. Node
 * (j, k) covers shards {@code [k*2^j, min((k+1)*2^j, L))}; its sum is left + right, or the left
 * child alone when the right one covers no shard. Because the tree never changes, a worker holding
 * a whole node pre-sums it and the coordinator completes the tree from whatever nodes arrive: any
 * assignment of shards to workers gives the same bits.
 */
public final class ReductionTree {
  private final int leaves;
  private final TreeNode root;

  public ReductionTree(int leaves) {
    if (leaves <= 0) {
      throw new IllegalArgumentException("a reduction tree needs at least one leaf");
    }
    this.leaves = leaves;
    int level = 0;
    while ((1L << level) < leaves) {
      level++;
    }
    this.root = new TreeNode(level, 0);
  }

  public int leaves() {
    return leaves;
  }

  public TreeNode root() {
    return root;
  }

  /** Whether {@code node} covers at least one shard. */
  public boolean exists(TreeNode node) {
    return node.level() >= 0
        && node.level() <= root.level()
        && node.index() >= 0
        && node.from() < leaves;
  }

  /**
   * The canonical cover of shards {@code [from, to)}: the fewest tree nodes, each wholly inside the
   * range, in shard order. A worker owning that range sends one sum per node.
   */
  public List<TreeNode> cover(int from, int to) {
    if (from < 0 || to > leaves || from > to) {
      throw new IllegalArgumentException(
          "range [" + from + "," + to + ") is not within [0," + leaves + ")");
    }
    List<TreeNode> out = new ArrayList<>();
    cover(root, from, to, out);
    return out;
  }

  private void cover(TreeNode node, int from, int to, List<TreeNode> out) {
    int lo = node.from();
    int hi = node.to(leaves);
    if (lo >= to || hi <= from || lo >= leaves) {
      return;
    }
    if (from <= lo && hi <= to) {
      out.add(node);
      return;
    }
    cover(node.left(), from, to, out);
    cover(node.right(), from, to, out);
  }

  /**
   * The sum of {@code node}: {@code known} answers for nodes whose sum is already there (it must
   * answer for every leaf that no known ancestor covers); other nodes are the sum of their
   * children, left first. Consumes the known values: each right operand's array, once added into
   * its left sibling, is handed to {@code recycle}.
   */
  public GradientSum reduce(
      TreeNode node, Function<TreeNode, GradientSum> known, Consumer<float[]> recycle) {
    GradientSum given = known.apply(node);
    if (given != null) {
      return given;
    }
    if (node.level() == 0) {
      throw new IllegalStateException("no gradient for shard " + node.index());
    }
    GradientSum left = reduce(node.left(), known, recycle);
    TreeNode right = node.right();
    if (right.from() >= leaves) {
      return left;
    }
    GradientSum r = reduce(right, known, recycle);
    GradientSum sum = left.plus(r);
    recycle.accept(r.grad());
    return sum;
  }

  /** The root sum from {@code known} nodes; consumed arrays are left to the garbage collector. */
  public GradientSum reduce(Function<TreeNode, GradientSum> known) {
    return reduce(root, known, g -> {});
  }
}
