package dev.anvil.coordinator;

import dev.anvil.core.train.TreeNode;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which worker was sent which tree nodes in the current round. A result for the current round
 * counts only when its worker was sent its node: a result no dispatch asked for (a forged or
 * corrupted message from a member) is dropped before it can enter the round.
 */
final class Dispatches {
  private long round = -1;
  private final Map<String, Set<TreeNode>> sent = new HashMap<>();

  /** Forgets the last round's dispatches. */
  void newRound(long round) {
    this.round = round;
    sent.clear();
  }

  void sent(String worker, TreeNode[] nodes) {
    Set<TreeNode> s = sent.computeIfAbsent(worker, k -> new HashSet<>());
    for (TreeNode n : nodes) {
      s.add(n);
    }
  }

  /** Whether {@code worker} was sent {@code node} for {@code round}, the current round. */
  boolean expected(long round, String worker, TreeNode node) {
    return round == this.round && sent.getOrDefault(worker, Set.of()).contains(node);
  }
}
