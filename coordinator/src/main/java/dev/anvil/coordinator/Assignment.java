package dev.anvil.coordinator;

import dev.anvil.core.train.BlockPlan;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Which tree nodes each worker computes: the workers in a stable order (by actor path, so by node
 * address and slot), each given a contiguous, balanced range of logical shards as {@link BlockPlan}
 * cuts it. The same workers always get the same blocks, round after round.
 */
public final class Assignment {
  private final Map<ActorRef<?>, TreeNode[]> blocks;
  private final int nodes;

  private Assignment(Map<ActorRef<?>, TreeNode[]> blocks, int nodes) {
    this.blocks = blocks;
    this.nodes = nodes;
  }

  /** The first {@code count} of {@code available} in stable order. */
  public static <T> List<ActorRef<T>> choose(Set<ActorRef<T>> available, int count) {
    List<ActorRef<T>> sorted = new ArrayList<>(available);
    sorted.sort(Comparator.comparing(r -> r.path().toString()));
    return List.copyOf(sorted.subList(0, Math.min(count, sorted.size())));
  }

  public static <T> Assignment of(ReductionTree tree, List<ActorRef<T>> workers) {
    List<List<TreeNode>> plan = BlockPlan.balanced(tree, workers.size());
    Map<ActorRef<?>, TreeNode[]> blocks = new LinkedHashMap<>();
    Set<Object> addresses = new HashSet<>();
    for (int w = 0; w < workers.size(); w++) {
      blocks.put(
          workers.get(w), w < plan.size() ? plan.get(w).toArray(new TreeNode[0]) : new TreeNode[0]);
      addresses.add(workers.get(w).path().address());
    }
    return new Assignment(blocks, addresses.size());
  }

  /** The nodes {@code worker} computes (empty when there are more workers than shards). */
  public TreeNode[] nodesOf(ActorRef<?> worker) {
    TreeNode[] nodes = blocks.get(worker);
    return nodes == null ? new TreeNode[0] : nodes.clone();
  }

  /** How many cluster nodes (JVMs) the workers are on. */
  public int nodes() {
    return nodes;
  }
}
