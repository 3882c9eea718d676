package dev.anvil.coordinator;

import dev.anvil.core.wire.WireRegistrar;
import dev.anvil.core.wire.WireRegistry;

/** The coordinator module's wire types (ids 300-399). Persisted events keep their ids forever. */
public final class CoordinatorWire implements WireRegistrar {
  @Override
  public int firstId() {
    return 300;
  }

  @Override
  public int lastId() {
    return 399;
  }

  @Override
  public void register(WireRegistry r) {
    r.register(JobProtocol.Submit.class, 300);
    r.register(JobProtocol.Watch.class, 301);
    r.register(JobProtocol.Pause.class, 302);
    r.register(JobProtocol.Resume.class, 303);
    r.register(JobProtocol.Cancel.class, 304);
    r.register(JobProtocol.Import.class, 305);
    r.register(JobProtocol.Export.class, 306);
    r.register(JobProtocol.Accepted.class, 310);
    r.register(JobProtocol.Rejected.class, 311);
    r.register(JobProtocol.Progress.class, 312);
    r.register(JobProtocol.Finished.class, 313);
    r.register(JobProtocol.Failed.class, 314);
    r.register(JobProtocol.Paused.class, 315);
    r.register(JobProtocol.Degraded.class, 316);
    r.register(JobProtocol.Exported.class, 317);
    r.register(JobProtocol.Recovered.class, 318);
    r.register(JobProtocol.GetPlacement.class, 319);
    r.register(JobProtocol.Placement.class, 320);
    for (JournalFormat.Entry<?> e : JournalFormat.ENTRIES) {
      r.register(e.type(), e.id(), e.format());
    }
  }
}
