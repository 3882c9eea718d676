package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import java.time.Duration;
import java.util.List;

/** A graceful leave (the node hands over and exits); healed by starting it again. */
public final class LeaveNode extends OnNodes {
  private final Duration restartTimeout;

  public LeaveNode(ChaosCluster cluster, List<Integer> nodes, Duration restartTimeout) {
    super(cluster, "leave-node", nodes);
    this.restartTimeout = restartTimeout;
  }

  @Override
  public String inject(ChaosCluster cluster) {
    nodes.forEach(cluster::leave);
    return "asked to leave";
  }

  @Override
  public String heal(ChaosCluster cluster) {
    long deadline = System.nanoTime() + restartTimeout.toNanos();
    for (int n : nodes) {
      while (cluster.local().alive(n)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "node "
                  + (n + 1)
                  + " still runs "
                  + restartTimeout.toSeconds()
                  + " s after it was asked to leave");
        }
        try {
          cluster.local().process(n).waitFor(200, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
      cluster.restart(List.of(n), restartTimeout);
    }
    return "left and started again";
  }
}
