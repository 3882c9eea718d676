package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;

/**
 * Every node killed at once (a power cut), and the cluster started again: jobs continue from the
 * journal and their newest checkpoints. Injected and healed in one step.
 */
public final class KillAll implements Fault {
  private boolean restarted;

  @Override
  public String type() {
    return "kill-all";
  }

  @Override
  public String target() {
    return "every node";
  }

  @Override
  public String inject(ChaosCluster cluster) {
    long start = System.nanoTime();
    cluster.restartAll();
    restarted = true;
    return "all nodes killed and started again; cluster up after "
        + (System.nanoTime() - start) / 1_000_000
        + " ms";
  }

  @Override
  public String heal(ChaosCluster cluster) {
    return restarted ? "already started again" : "nothing to heal";
  }
}
