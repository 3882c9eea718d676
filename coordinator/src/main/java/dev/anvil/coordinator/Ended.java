package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.FromWorker;
import dev.anvil.coordinator.JobCoordinator.JournalLoaded;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobProtocol.Failed;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Paused;
import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A job that holds no workers: finished, failed (or cancelled), or paused at a checkpointed round
 * boundary. Requests get its outcome; a paused job can be resumed (a new incarnation from the
 * journal) or cancelled, and its checkpoints exported.
 */
final class Ended extends CoordinatorBehavior {
  /** Finished, Failed or Paused. */
  private final JobUpdate outcome;

  private final long epoch;
  private final List<CheckpointCommitted> newestFirst;
  private final String everyRounds;

  /** The run that ended here; null when the journal recorded the end. */
  private final JobRun run;

  /** A paused job's resume or cancel is being journaled. */
  private String cancelling;

  private boolean resuming;

  Ended(
      CoordinatorContext c,
      JobUpdate outcome,
      JournalState recorded,
      long epoch,
      List<CheckpointCommitted> newestFirst,
      String everyRounds,
      JobRun run) {
    super(c);
    this.outcome = outcome;
    this.epoch = epoch;
    this.newestFirst = newestFirst;
    this.everyRounds = everyRounds;
    this.run = run;
  }

  /** The job as its journal records it: finished, failed or paused. */
  static Behavior<Command> fromJournal(CoordinatorContext c, JournalState recorded) {
    JobUpdate outcome =
        recorded.result() != null
            ? new JobProtocol.Finished(c.jobId, recorded.result())
            : recorded.failure() != null
                ? new Failed(c.jobId, recorded.failure())
                : new Paused(c.jobId, recorded.lastRound());
    List<CheckpointCommitted> refs = recorded.checkpoints();
    List<CheckpointCommitted> kept =
        new ArrayList<>(
            refs.subList(Math.max(0, refs.size() - c.settings.keepCheckpoints()), refs.size()));
    Collections.reverse(kept);
    c.passivateWhenIdle();
    return new Ended(c, outcome, recorded, 0, kept, "?", null);
  }

  /** A take-over that cannot start ({@code reason}): the job fails, recorded. */
  static Behavior<Command> failedAtStart(
      CoordinatorContext c, JournalState recorded, String reason) {
    c.log().warn("job {} failed: {}", c.jobId, reason);
    c.passivateWhenIdle();
    c.journal.send(new JobJournal.RecordFailed(reason, c.acks), JobJournal.Recorded.FAILED);
    Failed failed = new Failed(c.jobId, reason);
    c.watchers.tell(failed);
    return new Ended(c, failed, recorded, 0, List.of(), "?", null);
  }

  /**
   * The job's checkpoints, newest first. A checkpoint still being written when the job ended is
   * journaled after it (through {@code run.durability}): the run's pipeline has it, the list taken
   * at the end does not.
   */
  private List<CheckpointCommitted> checkpoints() {
    return run != null && run.checkpoints != null ? run.checkpoints.newestFirst() : newestFirst;
  }

  private boolean paused() {
    return outcome instanceof Paused;
  }

  @Override
  String phase() {
    return outcome instanceof Paused
        ? (resuming ? "resuming" : "paused")
        : outcome instanceof Failed ? "failed" : "done";
  }

  @Override
  JobProtocol.Placement placement() {
    return placement(java.util.Map.of(), run == null ? 0 : run.commits.durableRound());
  }

  @Override
  public Receive<Command> createReceive() {
    return common(
            newReceiveBuilder()
                .onMessage(JobProtocol.Submit.class, s -> tellOutcome(s.replyTo(), false))
                .onMessage(JobProtocol.Watch.class, w -> tellOutcome(w.replyTo(), true))
                .onMessage(JobProtocol.Pause.class, p -> tellOutcome(p.replyTo(), false))
                .onMessage(JobProtocol.Resume.class, this::onResume)
                .onMessage(JobProtocol.Cancel.class, this::onCancel)
                .onMessage(JobProtocol.Export.class, e -> export(e, checkpoints(), everyRounds))
                .onMessage(
                    JournalLoaded.class,
                    l -> resuming ? JobCoordinator.incarnation(c, l.state(), true, null) : this)
                .onMessage(
                    JobCoordinator.CheckpointWritten.class,
                    w -> {
                      if (run != null && run.durability != null) {
                        run.durability.onCheckpointWritten(w);
                      }
                      return this;
                    })
                .onMessage(
                    FromWorker.class,
                    f -> {
                      if (f.reply() instanceof Prepared p && p.epoch() == epoch && epoch != 0) {
                        // The job ended while this worker prepared it: the release sent at the end
                        // may
                        // have reached the worker before its preparation finished.
                        p.self().tell(new ReleaseJob(c.jobId));
                      }
                      return this;
                    })
                .onMessage(
                    CoordinatorContext.PassivateIdle.class,
                    p -> {
                      if (!paused()) {
                        c.passivate();
                      }
                      return this;
                    }))
        .build();
  }

  /**
   * Tells {@code to} the outcome and adds it as a watcher; a watch of a paused job hears it only
   * when it is a new watcher ({@code once}).
   */
  private Behavior<Command> tellOutcome(ActorRef<JobUpdate> to, boolean once) {
    boolean fresh = c.watchers.add(to);
    if (!(once && paused() && !fresh)) {
      to.tell(outcome);
    }
    return this;
  }

  private Behavior<Command> onResume(JobProtocol.Resume r) {
    c.watchers.add(r.replyTo());
    if (!paused()) {
      r.replyTo().tell(outcome);
    } else if (!resuming) {
      resuming = true;
      c.journal.send(
          new JobJournal.RecordResumed(r.replyTo().path().address().toString(), c.acks),
          JobJournal.Recorded.RESUMED);
    }
    return this;
  }

  private Behavior<Command> onCancel(JobProtocol.Cancel x) {
    c.watchers.add(x.replyTo());
    if (!paused()) {
      x.replyTo().tell(outcome);
    } else {
      cancelling = "cancelled" + (x.reason().isBlank() ? "" : ": " + x.reason());
      c.journal.send(
          new JobJournal.RecordCancelled(cancelling, c.acks), JobJournal.Recorded.CANCELLED);
    }
    return this;
  }

  @Override
  Behavior<Command> onRecorded(Ack ack) {
    Behavior<Command> next = super.onRecorded(ack);
    switch (ack.what()) {
      case RESUMED -> {
        if (resuming) {
          c.journal.tell(
              new JobJournal.GetState(
                  c.actor.messageAdapter(JournalState.class, JournalLoaded::new)));
        }
      }
      case CANCELLED -> {
        if (cancelling != null && paused()) {
          c.log().warn("job {} ended: {}", c.jobId, cancelling);
          Failed failed = new Failed(c.jobId, cancelling);
          c.watchers.tell(failed);
          return new Ended(c, failed, null, epoch, newestFirst, everyRounds, run);
        }
      }
      case RECOVERY -> {
        if (run != null) {
          run.recoveryAcknowledged();
        }
      }
      case CHECKPOINT -> {
        if (run != null && run.durability != null) {
          run.durability.checkpointJournaled();
        }
      }
      default -> {}
    }
    return next;
  }

  @Override
  Behavior<Command> resend(JobJournal.Recorded what) {
    if (what == JobJournal.Recorded.RECOVERY && run != null) {
      run.resendRecoveries();
      return this;
    }
    return super.resend(what);
  }
}
