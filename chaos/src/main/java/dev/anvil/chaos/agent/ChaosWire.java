package dev.anvil.chaos.agent;

import dev.anvil.core.wire.WireRegistrar;
import dev.anvil.core.wire.WireRegistry;

/** The chaos module's wire types (ids 600-699). */
public final class ChaosWire implements WireRegistrar {
  @Override
  public int firstId() {
    return 600;
  }

  @Override
  public int lastId() {
    return 699;
  }

  @Override
  public void register(WireRegistry r) {
    r.register(NodeFaults.class, 600);
    r.register(ChaosAgent.Apply.class, 601);
    r.register(ChaosAgent.Isolate.class, 602);
    r.register(ChaosAgent.Applied.class, 603);
  }
}
