package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import java.util.List;

/**
 * SIGSTOP of node JVMs (a long GC pause, a frozen VM); healed by SIGCONT. Paused past the failure
 * detector and the split-brain resolver, a node is downed and, once thawed, leaves and exits: the
 * next fault that needs a whole cluster starts it again.
 */
public final class PauseNode extends OnNodes {
  public PauseNode(ChaosCluster cluster, List<Integer> nodes) {
    super(cluster, "pause-node", nodes);
  }

  @Override
  public String inject(ChaosCluster cluster) {
    nodes.forEach(cluster::freeze);
    return "SIGSTOP";
  }

  @Override
  public String heal(ChaosCluster cluster) {
    nodes.forEach(cluster::thaw);
    return "SIGCONT";
  }
}
