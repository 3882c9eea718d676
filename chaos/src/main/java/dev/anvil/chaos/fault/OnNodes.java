package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import java.util.List;
import java.util.stream.Collectors;

/** A fault on a set of nodes, named by type; its target reads "node 2 (127.0.0.1:40211)". */
abstract class OnNodes implements Fault {
  final List<Integer> nodes;
  private final String type;
  private final String target;

  OnNodes(ChaosCluster cluster, String type, List<Integer> nodes) {
    this.nodes = List.copyOf(nodes);
    this.type = type;
    this.target = describe(cluster, nodes);
  }

  static String describe(ChaosCluster c, List<Integer> nodes) {
    return nodes.stream()
        .map(n -> "node " + (n + 1) + " (" + c.address(n) + ")")
        .collect(Collectors.joining(", "));
  }

  @Override
  public final String type() {
    return type;
  }

  @Override
  public final String target() {
    return target;
  }

  @Override
  public final List<Integer> nodes() {
    return nodes;
  }
}
