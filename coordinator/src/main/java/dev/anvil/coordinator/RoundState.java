package dev.anvil.coordinator;

import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What has arrived for one round: tree-node gradient sums that together must cover every logical
 * shard exactly once. Immutable; {@link #accept} returns the next state.
 *
 * <p>Semantics: a result for another round is stale and ignored; a result whose shards overlap
 * shards already covered is a duplicate (a re-dispatch that lost the race, or a message delivered
 * twice) and ignored; the first result for a shard wins. Only the tree fixes the bits, so which
 * worker's result is kept does not matter.
 */
public record RoundState(
    long round, int shards, SortedMap<TreeNode, GradientSum> results, int covered) {

  /** What {@link #accept} did with a result. */
  public enum Outcome {
    ACCEPTED,
    DUPLICATE,
    STALE,
    INVALID
  }

  public record Acceptance(RoundState state, Outcome outcome) {}

  public static RoundState start(long round, int shards) {
    return new RoundState(round, shards, Collections.emptySortedMap(), 0);
  }

  public Acceptance accept(long resultRound, TreeNode node, GradientSum sum) {
    if (resultRound != round) {
      return new Acceptance(this, Outcome.STALE);
    }
    int from = node.from();
    int to = node.to(shards);
    if (node.level() < 0 || node.index() < 0 || from >= shards || node.level() > 31) {
      return new Acceptance(this, Outcome.INVALID);
    }
    if (covers(node)) {
      return new Acceptance(this, Outcome.DUPLICATE);
    }
    TreeMap<TreeNode, GradientSum> next = new TreeMap<>(results);
    next.put(node, sum);
    return new Acceptance(
        new RoundState(
            round, shards, Collections.unmodifiableSortedMap(next), covered + (to - from)),
        Outcome.ACCEPTED);
  }

  public boolean complete() {
    return covered == shards;
  }

  /** Whether a result already covers any of the shards of {@code node}. */
  public boolean covers(TreeNode node) {
    int from = node.from();
    int to = node.to(shards);
    for (TreeNode have : results.keySet()) {
      if (have.from() < to && from < have.to(shards)) {
        return true;
      }
    }
    return false;
  }

  /** The round's total, completed in the fixed tree. Only when {@link #complete()}. */
  public GradientSum reduce(ReductionTree tree) {
    if (!complete()) {
      throw new IllegalStateException(
          "round " + round + " covers " + covered + " of " + shards + " shards");
    }
    return tree.reduce(results::get);
  }
}
