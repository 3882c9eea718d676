package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import dev.anvil.chaos.agent.NodeFaults;
import java.util.List;

/**
 * A fault inside node JVMs, through their chaos agents: messages to workers dropped or delayed, a
 * straggler, bad gradients (NaN, Inf, a wrong length), checkpoint writes held up. Healed by
 * clearing the node's faults.
 */
public final class InProcessFault extends OnNodes {
  private final NodeFaults faults;

  public InProcessFault(ChaosCluster cluster, String type, List<Integer> nodes, NodeFaults faults) {
    super(cluster, type, nodes);
    this.faults = faults;
  }

  @Override
  public String inject(ChaosCluster cluster) {
    for (int n : nodes) {
      cluster.applyFaults(n, faults);
    }
    return faults.toString();
  }

  @Override
  public String heal(ChaosCluster cluster) {
    for (int n : nodes) {
      if (cluster.local().alive(n)) {
        cluster.applyFaults(n, NodeFaults.NONE);
      }
    }
    return "cleared";
  }
}
