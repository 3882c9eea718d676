package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import java.time.Duration;
import java.util.List;

/**
 * SIGKILL of node JVMs (a crash: no shutdown hook, no goodbye), several at once when the target
 * names several; the launcher then downs the dead incarnations, as an operator would. Healed by
 * starting them again.
 */
public final class KillNode extends OnNodes {
  private final Duration restartTimeout;

  public KillNode(ChaosCluster cluster, List<Integer> nodes, Duration restartTimeout) {
    super(cluster, "kill-node", nodes);
    this.restartTimeout = restartTimeout;
  }

  @Override
  public String inject(ChaosCluster cluster) {
    for (int n : nodes) {
      cluster.kill(n);
    }
    return "SIGKILL";
  }

  /** Starts the killed nodes again, all at once; returns once each new incarnation is up. */
  @Override
  public String heal(ChaosCluster cluster) {
    long start = System.nanoTime();
    cluster.restart(nodes, restartTimeout);
    return "restarted; new incarnation up after " + (System.nanoTime() - start) / 1_000_000 + " ms";
  }
}
