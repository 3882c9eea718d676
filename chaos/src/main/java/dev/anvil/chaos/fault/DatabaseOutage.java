package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;

/** The embedded PostgreSQL stopped (the journal and checkpoint store unreachable), then started. */
public final class DatabaseOutage implements Fault {
  @Override
  public String type() {
    return "database-outage";
  }

  @Override
  public String target() {
    return "the database";
  }

  @Override
  public String inject(ChaosCluster cluster) {
    cluster.stopDatabase();
    return "PostgreSQL stopped";
  }

  @Override
  public String heal(ChaosCluster cluster) {
    cluster.startDatabase();
    return "PostgreSQL started";
  }
}
