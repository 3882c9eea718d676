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
    r.register(JobProtocol.Accepted.class, 310);
    r.register(JobProtocol.Rejected.class, 311);
    r.register(JobProtocol.Progress.class, 312);
    r.register(JobProtocol.Finished.class, 313);
    r.register(JobProtocol.Failed.class, 314);
    r.register(JobJournal.JobSubmitted.class, 350);
    r.register(JobJournal.RoundCommitted.class, 351);
    r.register(JobJournal.JobCompleted.class, 352);
    r.register(JobJournal.JobFailed.class, 353);
    r.register(JobJournal.CoordinatorStarted.class, 354);
    r.register(JobJournal.RecoveryRecorded.class, 355);
  }
}
