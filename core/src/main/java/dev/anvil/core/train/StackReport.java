package dev.anvil.core.train;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What {@link StackGuard} found for a job on this machine: for every product of a pass, the tallest
 * call (in shards) that gave the bits of per-shard calls at every height up to it, or why nothing
 * is stacked at all.
 *
 * @param rowsPerShard rows of one logical shard
 * @param maxHeight the most shards one pass stacks (1 when nothing is stacked)
 * @param products each product's check, in pass order (empty when {@code problem} is set)
 * @param problem why nothing is stacked, or null
 */
public record StackReport(
    int rowsPerShard, int maxHeight, List<ProductCheck> products, String problem) {

  /**
   * @param product the product's name, e.g. "forward 784x128"
   * @param height the tallest call it may make: every height from 1 to this one matched
   * @param differsAt the first height that did not match, or 0 when all up to {@code maxHeight} did
   */
  public record ProductCheck(String product, int height, int differsAt) {}

  public StackReport {
    products = List.copyOf(products);
  }

  static StackReport unstacked(int rowsPerShard, String problem) {
    return new StackReport(rowsPerShard, 1, List.of(), problem);
  }

  /** Product p's tallest call in shards; 1 for every product when nothing is stacked. */
  int[] chunks() {
    return products.stream().mapToInt(ProductCheck::height).toArray();
  }

  /** One line for the log and {@code result.json}. */
  public String summary() {
    if (problem != null) {
      return "shard by shard: " + problem;
    }
    String head =
        "stacked up to "
            + maxHeight
            + " shards of "
            + rowsPerShard
            + " rows; every product checked bitwise against per-shard calls on round 0 at heights"
            + " 1.."
            + maxHeight;
    List<ProductCheck> capped = products.stream().filter(c -> c.differsAt() > 0).toList();
    if (capped.isEmpty()) {
      return head + ": all equal";
    }
    return head
        + "; "
        + capped.stream()
            .map(c -> c.product() + " differs at " + c.differsAt() + ", runs " + c.height())
            .collect(Collectors.joining(", "))
        + " shards a call";
  }
}
