package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.ImportChecked;
import dev.anvil.coordinator.JobCoordinator.JournalLoaded;
import dev.anvil.coordinator.JobJournal.Ack;
import dev.anvil.coordinator.JobProtocol.Exported;
import dev.anvil.coordinator.JobProtocol.Rejected;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.checkpoint.CorruptCheckpointException;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.PreparedJob;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * No job is recorded under this id: a Submit starts one, an Import brings one in from a
 * checkpoint file (checked, stored and journaled, then resumed); anything else is refused.
 */
final class Idle extends CoordinatorBehavior {
  /** An import is being checked or journaled. */
  private boolean importing;
  /** The job an import's check prepared: its resume does not load the data again. */
  private PreparedJob imported;

  Idle(CoordinatorContext c) {
    super(c);
  }

  @Override
  String phase() {
    return importing ? "importing" : "idle";
  }

  @Override
  public Receive<Command> createReceive() {
    return common(newReceiveBuilder()
        .onMessage(JobProtocol.Submit.class, this::onSubmit)
        .onMessage(JobProtocol.Import.class, this::onImport)
        .onMessage(ImportChecked.class, this::onImportChecked)
        .onMessage(JournalLoaded.class,
            l -> JobCoordinator.incarnation(c, l.state(), true, imported))
        .onMessage(JobProtocol.Watch.class, w -> {
          c.watchers.add(w.replyTo());
          return this;
        })
        .onMessage(JobProtocol.Pause.class, p -> refuse(p.replyTo(), "pause"))
        .onMessage(JobProtocol.Resume.class, r -> refuse(r.replyTo(), "resume"))
        .onMessage(JobProtocol.Cancel.class, x -> refuse(x.replyTo(), "cancel"))
        .onMessage(JobProtocol.Export.class, e -> {
          e.replyTo().tell(new Exported(c.jobId, 0, null, "there is no job " + c.jobId
              + " here"));
          return this;
        })
        .onMessage(CoordinatorContext.PassivateIdle.class, p -> {
          if (!importing) {
            c.passivate();
          }
          return this;
        }))
        .build();
  }

  private Behavior<Command> refuse(org.apache.pekko.actor.typed.ActorRef<JobProtocol.JobUpdate>
      to, String what) {
    c.watchers.refuse(to, c.jobId, importing ? "job " + c.jobId + " is being imported; "
        + what + " it once it runs" : "there is no job " + c.jobId + " to " + what);
    return this;
  }

  private Behavior<Command> onSubmit(JobProtocol.Submit s) {
    c.watchers.add(s.replyTo());
    if (importing) {
      return this;  // the import's outcome comes to every watcher
    }
    JobSpec spec;
    try {
      spec = JobSpecParser.parseUntrusted(s.spec(), "job " + c.jobId, c.specRules);
    } catch (JobSpecException e) {
      c.watchers.refuse(s.replyTo(), c.jobId, e.getMessage());
      return this;
    }
    if (s.workers() <= 0) {
      c.watchers.refuse(s.replyTo(), c.jobId, "workers = " + s.workers()
          + ": must be a whole number > 0");
      return this;
    }
    JobJournal.State recorded = new JobJournal.State(s.spec(), s.workers(), 0, 0, Double.NaN,
        0, List.of(), List.of(), false, 0, null, null, 0);
    c.journal.send(new JobJournal.RecordSubmitted(s.spec(), s.workers(), c.acks),
        JobJournal.Recorded.SUBMITTED);
    return Starting.submitted(c, spec, recorded);
  }

  private Behavior<Command> onImport(JobProtocol.Import i) {
    if (importing) {
      i.replyTo().tell(new Rejected(c.jobId, "job " + c.jobId + " already exists here;"
          + " import it under another job id"));
      return this;
    }
    Checkpoint k;
    try {
      k = CheckpointFormat.decode(i.checkpoint());
    } catch (CorruptCheckpointException e) {
      i.replyTo().tell(new Rejected(c.jobId, "the checkpoint file is not usable: "
          + e.getMessage()));
      return this;
    }
    int workers = i.workers() > 0 ? i.workers() : k.workers();
    c.watchers.add(i.replyTo());
    importing = true;
    byte[] bytes = i.checkpoint();
    c.pipe(() -> c.io.importChecked(k, bytes, c.specRules),
        imported -> new ImportChecked(imported, workers, null),
        error -> new ImportChecked(null, 0, error));
    return this;
  }

  private Behavior<Command> onImportChecked(ImportChecked checked) {
    if (checked.error() != null) {
      importing = false;
      c.watchers.refuseAll(c.jobId, checked.error());
      c.log().warn("job {}: import refused: {}", c.jobId, checked.error());
      return this;
    }
    Checkpoint k = checked.imported().checkpoint();
    imported = checked.imported().prepared();
    c.journal.send(new JobJournal.RecordImported(new JobJournal.JobImported(k.spec(),
        checked.workers(), k.round(), k.loss(), k.jobId()), checked.imported().ref(), c.acks),
        JobJournal.Recorded.IMPORTED);
    return this;
  }

  @Override
  Behavior<Command> onRecorded(Ack ack) {
    super.onRecorded(ack);
    if (ack.what() == JobJournal.Recorded.IMPORTED) {
      c.journal.tell(new JobJournal.GetState(c.actor.messageAdapter(JobJournal.State.class,
          JournalLoaded::new)));
    } else if (ack.what() == JobJournal.Recorded.REFUSED) {
      c.journal.acknowledged(JobJournal.Recorded.IMPORTED);
      importing = false;
      c.watchers.refuseAll(c.jobId, "job " + c.jobId + " already exists here; import it"
          + " under another job id");
    }
    return this;
  }
}
