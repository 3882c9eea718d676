package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobProtocol.Rejected;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.checkpoint.CorruptCheckpointException;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * No job is recorded under this id: a Submit starts one, an Import brings one in from a checkpoint
 * file ({@link Importing}); anything else is refused.
 */
final class Idle extends CoordinatorBehavior {
  Idle(CoordinatorContext c) {
    super(c);
  }

  @Override
  String phase() {
    return "idle";
  }

  @Override
  public Receive<Command> createReceive() {
    return common(
            noJobYet(newReceiveBuilder(), what -> "there is no job " + c.jobId + " to " + what)
                .onMessage(JobProtocol.Submit.class, this::onSubmit)
                .onMessage(JobProtocol.Import.class, this::onImport)
                .onMessage(
                    CoordinatorContext.PassivateIdle.class,
                    p -> {
                      c.passivate();
                      return this;
                    }))
        .build();
  }

  private Behavior<Command> onSubmit(JobProtocol.Submit s) {
    c.watchers.add(s.replyTo());
    JobSpec spec;
    try {
      spec = JobSpecParser.parseUntrusted(s.spec(), "job " + c.jobId, c.specRules);
    } catch (JobSpecException e) {
      c.watchers.refuse(s.replyTo(), c.jobId, e.getMessage());
      return this;
    }
    if (s.workers() <= 0) {
      c.watchers.refuse(
          s.replyTo(), c.jobId, "workers = " + s.workers() + ": must be a whole number > 0");
      return this;
    }
    JournalState recorded = JournalState.EMPTY.withJob(s.spec(), s.workers());
    c.journal.send(
        new JobJournal.RecordSubmitted(s.spec(), s.workers(), c.acks),
        JobJournal.Recorded.SUBMITTED);
    return Starting.submitted(c, spec, recorded);
  }

  private Behavior<Command> onImport(JobProtocol.Import i) {
    Checkpoint k;
    try {
      k = CheckpointFormat.decode(i.checkpoint());
    } catch (CorruptCheckpointException e) {
      i.replyTo()
          .tell(new Rejected(c.jobId, "the checkpoint file is not usable: " + e.getMessage()));
      return this;
    }
    c.watchers.add(i.replyTo());
    return new Importing(c, k, i.checkpoint(), i.workers() > 0 ? i.workers() : k.workers());
  }
}
