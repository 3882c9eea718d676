package dev.anvil.core.train;

/**
 * A node of the reduction tree over logical shards: at {@code level} j and {@code index} k it
 * covers the shards {@code [k * 2^j, min((k + 1) * 2^j, L))}. Leaves are level 0.
 */
public record TreeNode(int level, int index) implements Comparable<TreeNode> {

  public static TreeNode leaf(int shard) {
    return new TreeNode(0, shard);
  }

  public int from() {
    return index << level;
  }

  /** End (exclusive) of the covered shards when there are {@code leaves} shards. */
  public int to(int leaves) {
    return (int) Math.min(((long) index + 1) << level, leaves);
  }

  public TreeNode left() {
    return new TreeNode(level - 1, index * 2);
  }

  public TreeNode right() {
    return new TreeNode(level - 1, index * 2 + 1);
  }

  @Override
  public int compareTo(TreeNode o) {
    int c = Integer.compare(from(), o.from());
    return c != 0 ? c : Integer.compare(o.level, level);
  }

  @Override
  public String toString() {
    return "[" + from() + "," + (((long) index + 1) << level) + ")@" + level;
  }
}
