package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import java.time.Duration;
import java.util.List;

/**
 * A network partition: every link between two sets of nodes cut, both ways, heartbeats included
 * (Artery's test transport on each node, driven by its chaos agent). The split-brain resolver keeps
 * the majority and downs the minority, whose nodes exit; the heal restores the links and starts the
 * downed nodes again.
 */
public final class Partition implements Fault {
  private final List<Integer> majority;
  private final List<Integer> minority;
  private final String target;
  private final Duration restartTimeout;

  public Partition(
      ChaosCluster cluster,
      List<Integer> majority,
      List<Integer> minority,
      Duration restartTimeout) {
    this.majority = List.copyOf(majority);
    this.minority = List.copyOf(minority);
    this.target =
        OnNodes.describe(cluster, majority) + " vs " + OnNodes.describe(cluster, minority);
    this.restartTimeout = restartTimeout;
  }

  @Override
  public String type() {
    return "partition";
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public String inject(ChaosCluster cluster) {
    cluster.partition(majority, minority, true);
    return "links cut between " + majority.size() + " and " + minority.size() + " nodes";
  }

  @Override
  public String heal(ChaosCluster cluster) {
    cluster.partition(majority, minority, false);
    cluster.awaitWhole(restartTimeout);
    return "links restored; cluster whole";
  }
}
