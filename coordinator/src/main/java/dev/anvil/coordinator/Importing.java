package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.ImportChecked;
import dev.anvil.coordinator.JobCoordinator.JournalLoaded;
import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.train.PreparedJob;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A checkpoint file is being imported as this job: checked against this cluster's data and kernel
 * and stored (off the actor's thread), then journaled; once the journal has it, the job resumes
 * from it in a new incarnation. A refusal leaves no job here ({@link Idle}).
 */
final class Importing extends CoordinatorBehavior {
  /** The job the check prepared: its resume does not load the data again. */
  private PreparedJob prepared;

  /** Checks and stores {@code k} (the file's {@code bytes}) for {@code workers} workers. */
  Importing(CoordinatorContext c, Checkpoint k, byte[] bytes, int workers) {
    super(c);
    c.pipe(
        () -> c.io.importChecked(k, bytes, c.specRules),
        imported -> new ImportChecked(imported, workers, null),
        error -> new ImportChecked(null, 0, error));
  }

  @Override
  String phase() {
    return "importing";
  }

  @Override
  public Receive<Command> createReceive() {
    return common(
            noJobYet(
                    newReceiveBuilder(),
                    what -> "job " + c.jobId + " is being imported; " + what + " it once it runs")
                .onMessage(ImportChecked.class, this::onChecked)
                .onMessage(
                    JournalLoaded.class,
                    l -> JobCoordinator.incarnation(c, l.state(), true, prepared)))
        .build();
  }

  private Behavior<Command> onChecked(ImportChecked checked) {
    if (checked.error() != null) {
      c.watchers.refuseAll(c.jobId, checked.error());
      c.log().warn("job {}: import refused: {}", c.jobId, checked.error());
      return new Idle(c);
    }
    Checkpoint k = checked.imported().checkpoint();
    prepared = checked.imported().prepared();
    c.journal.send(
        new JobJournal.RecordImported(
            new JobJournal.JobImported(k.spec(), checked.workers(), k.round(), k.loss(), k.jobId()),
            checked.imported().ref(),
            c.acks),
        JobJournal.Recorded.IMPORTED);
    return this;
  }

  @Override
  Behavior<Command> onRecorded(Ack ack) {
    super.onRecorded(ack);
    if (ack.what() == JobJournal.Recorded.IMPORTED) {
      c.journal.tell(
          new JobJournal.GetState(c.actor.messageAdapter(JournalState.class, JournalLoaded::new)));
    } else if (ack.what() == JobJournal.Recorded.REFUSED) {
      c.journal.acknowledged(JobJournal.Recorded.IMPORTED);
      c.watchers.refuseAll(
          c.jobId, "job " + c.jobId + " already exists here; import it" + " under another job id");
      return new Idle(c);
    }
    return this;
  }
}
