package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.CheckpointWritten;
import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.FlushTick;
import dev.anvil.coordinator.JobCoordinator.GradientsLogged;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.coordinator.JobProtocol.Degraded;
import dev.anvil.coordinator.JobProtocol.Finished;
import dev.anvil.coordinator.JobProtocol.Paused;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.core.checkpoint.Checkpoint;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ReceiveBuilder;

/**
 * The training's durable side: computed rounds go to the journal ({@link CommitPipeline}'s
 * decisions), checkpoints are written and journaled ({@link CheckpointPipeline}'s), and the
 * journal's acknowledgements make rounds committed, pause the job or finish it. This class carries
 * out those decisions for {@link Training}: timers, blocking writes, journal sends.
 */
final class Durability {
  private final CoordinatorContext c;
  private final JobRun run;
  private final Training training;

  /** Dispatching waits: too many rounds are waiting for the journal. */
  private boolean stalled;

  private long pauseAt;
  private String resultJson;

  Durability(CoordinatorContext c, JobRun run, Training training) {
    this.c = c;
    this.run = run;
    this.training = training;
  }

  /**
   * The job ended: checkpoints already written are still journaled (and retention runs), as {@link
   * Ended} hands their messages here; nothing new is captured.
   */
  void ended() {
    training.ended();
  }

  ReceiveBuilder<Command> handlers(ReceiveBuilder<Command> b) {
    return b.onMessage(
            FlushTick.class,
            t -> {
              run.commits.tick();
              flush();
              return training;
            })
        .onMessage(GradientsLogged.class, this::onGradientsLogged)
        .onMessage(CheckpointWritten.class, this::onCheckpointWritten);
  }

  /** A new round was computed: it waits for the journal. */
  void computed(RoundLoop.Step step) {
    run.lastCommittedMillis = System.currentTimeMillis();
    if (step.logged() != null) {
      run.commits.toLog(step.logged());
    }
    run.commits.computed(
        new RoundCommitted(
            step.round(),
            step.loss(),
            step.samples(),
            run.lastCommittedMillis,
            run.inc.coordinatorEpoch()),
        run.stats.trainNanos());
    flush();
  }

  void stall(long done) {
    stalled = true; // the journal's ack restarts the rounds; a long wait degrades the job
    c.log()
        .debug(
            "job {}: round {} computed, the journal is at {}; waiting",
            c.jobId,
            done,
            run.commits.durableRound());
  }

  private void flush() {
    if (run.cancelReason != null) {
      return; // after a cancel, nothing more is recorded as committed
    }
    var flush = run.commits.flush(System.nanoTime(), training.stage() == Training.Stage.TRAINING);
    if (flush instanceof CommitPipeline.Later later) {
      c.timers.startSingleTimer(FlushTick.INSTANCE, later.delay());
    } else if (flush instanceof CommitPipeline.Write write) {
      if (run.incremental()) {
        // A round is journaled only once its gradient is in the log, so every committed round
        // can be replayed without recomputing it.
        c.pipe(
            () -> {
              c.io.logGradients(write.gradients());
              return write.batch();
            },
            batch -> new GradientsLogged(batch, null),
            error -> new GradientsLogged(write.batch(), error));
      } else {
        sendRounds(write.batch());
      }
    }
  }

  /** All rounds are computed: a flush waiting for the write interval goes now. */
  void flushNow() {
    if (run.commits.scheduled()) {
      c.timers.cancel(FlushTick.INSTANCE);
      run.commits.tick();
      flush();
    }
  }

  /** Journals rounds, with the oldest written checkpoint if its round is among them. */
  private void sendRounds(List<RoundCommitted> batch) {
    CheckpointCommitted with = run.checkpoints.withRounds(batch.get(batch.size() - 1).round());
    c.journal.send(new JobJournal.RecordRounds(batch, with, c.acks), JobJournal.Recorded.ROUNDS);
  }

  private Behavior<Command> onGradientsLogged(GradientsLogged g) {
    if (g.error() != null) {
      var retry = run.commits.logFailed();
      degrade("the gradient log cannot be written (" + g.error() + "); retrying");
      c.timers.startSingleTimer(FlushTick.INSTANCE, retry);
      return training;
    }
    run.commits.logged(g.batch().get(g.batch().size() - 1).round());
    sendRounds(g.batch());
    return training;
  }

  /** The journal is not keeping up: say so once per outage (watchers and the log). */
  private void degrade(String reason) {
    if (run.commits.degrade(System.currentTimeMillis(), System.nanoTime())) {
      c.log().warn("job {} is degraded: {}", c.jobId, reason);
      c.watchers.tell(new Degraded(c.jobId, reason));
    }
  }

  /** The journal acknowledged {@code ack}: what follows. */
  Behavior<Command> onRecorded(Ack ack) {
    switch (ack.what()) {
      case RECOVERY -> run.recoveryAcknowledged();
      case ROUNDS -> {
        if (run.checkpoints.roundsAnswered(ack.newestCheckpoint())) {
          checkpointJournaled();
        }
        run.stats.journalWrite(System.nanoTime() - run.commits.sentNanos());
        roundsDurable(ack.lastRound());
        flush();
        return maybeFinish();
      }
      case CHECKPOINT -> checkpointJournaled();
      case PAUSED -> {
        return training.stage() == Training.Stage.PAUSING ? paused() : training;
      }
      case CANCELLED -> {
        return run.end(run.cancelReason, false);
      }
      case COMPLETED -> {
        return training.stage() == Training.Stage.FINISHING ? completed() : training;
      }
      default -> {}
    }
    return training;
  }

  /** Sends again what the journal did not acknowledge; whether it was this side's. */
  boolean resend(JobJournal.Recorded what) {
    switch (what) {
      case ROUNDS -> {
        run.commits.unanswered();
        run.checkpoints.roundsUnanswered(); // sent again, with the batch or alone
        degrade(
            "the journal did not acknowledge rounds within "
                + c.settings.journalAckTimeout().toMillis()
                + " ms; retrying");
        flush();
      }
      case RECOVERY -> run.resendRecoveries();
      case COMPLETED -> {
        if (training.stage() == Training.Stage.FINISHING && resultJson != null) {
          c.journal.resend(what);
        }
      }
      case STARTED -> {}
      default -> {
        return false;
      }
    }
    return true;
  }

  /** Rounds up to {@code last} are in the journal: report them committed. */
  private void roundsDurable(long last) {
    var durable =
        run.commits.acknowledged(last, System.currentTimeMillis(), run.recoveries.waiting());
    if (durable == null) {
      return;
    }
    if (durable.outage() != null) {
      run.recoveries.journalOutage(
          durable.outage().sinceMillis(),
          durable.outage().lastAckMillis(),
          System.currentTimeMillis(),
          last);
      c.log().info("job {}: the journal records rounds again (up to round {})", c.jobId, last);
    }
    run.completeRecoveries(last, durable.committedMillis());
    journalCheckpoint();
    long round = run.commits.durableRound();
    double seconds =
        run.commits.trainNanosAt(durable.newest().round(), run.stats.trainNanos()) / 1e9;
    double samplesPerSecond = round * run.spec.batchSize() / seconds;
    c.metrics.roundsDurable(c.jobId, durable.newly(), samplesPerSecond);
    c.watchers.tell(
        new Progress(
            c.jobId, round, run.job().totalRounds(), durable.newest().loss(), samplesPerSecond));
    if (stalled && training.stage() == Training.Stage.TRAINING && run.cancelReason == null) {
      stalled = false;
      training.resumeAfterStall();
    }
    maybePause();
  }

  /**
   * Copies the parameters and optimizer state at this round boundary for a checkpoint. The copy is
   * written off the actor's thread (training goes on); a capture that finds another waiting
   * replaces it, so at most one copy waits and one is being written.
   */
  void capture() {
    run.checkpoints.capture(run.loop.capture());
    writeCheckpoint();
  }

  /** Writes the captured state once every evaluation up to its round is in the history. */
  void writeCheckpoint() {
    if (training.stage() == Training.Stage.ENDED) {
      return;
    }
    CheckpointPipeline.Captured k = run.checkpoints.nextWrite();
    if (k == null) {
      return;
    }
    long round = k.state().round();
    Checkpoint checkpoint =
        new Checkpoint(
            c.jobId,
            run.inc.recorded().spec(),
            run.wanted,
            run.job().dataFingerprint(),
            run.job().kernel().name(),
            k.state(),
            k.loss(),
            run.loop.historyThrough(round),
            k.epochLossSum(),
            k.epochRounds());
    long start = System.nanoTime();
    long writer = run.inc.coordinatorEpoch();
    c.pipe(
        () -> c.io.write(checkpoint, writer),
        ref -> new CheckpointWritten(ref, System.nanoTime() - start, null),
        error ->
            new CheckpointWritten(new CheckpointCommitted(round, null, null, 0, writer), 0, error));
  }

  Behavior<Command> onCheckpointWritten(CheckpointWritten w) {
    if (w.error() != null) {
      run.checkpoints.writeFailed();
      c.metrics.checkpointWriteFailed();
      c.log()
          .warn(
              "job {}: the checkpoint of round {} was not written ({}); training goes"
                  + " on, the next one is due in {} rounds",
              c.jobId,
              w.ref().round(),
              w.error(),
              run.spec.checkpoint().everyRounds());
      if (training.stage() == Training.Stage.PAUSING) {
        capture(); // a pause needs its checkpoint: try again
      }
      return training;
    }
    c.log()
        .debug(
            "job {}: checkpoint of round {} written, {} bytes in {} ms",
            c.jobId,
            w.ref().round(),
            w.ref().bytes(),
            w.nanos() / 1_000_000);
    c.metrics.checkpointWritten(w.nanos(), w.ref().bytes());
    run.checkpoints.written(w.ref());
    journalCheckpoint();
    writeCheckpoint();
    return training;
  }

  /** Journals the oldest written checkpoint once its round is durable, one at a time. */
  private void journalCheckpoint() {
    CheckpointCommitted ref = run.checkpoints.nextToJournal(run.commits.durableRound());
    if (ref != null) {
      c.journal.send(new JobJournal.RecordCheckpoint(ref, c.acks), JobJournal.Recorded.CHECKPOINT);
    }
  }

  /** A checkpoint is journaled: retention deletes those beyond the newest kept ones. */
  void checkpointJournaled() {
    CheckpointCommitted done = run.checkpoints.journaled();
    if (done != null) {
      c.metrics.checkpointCommitted();
      c.log()
          .debug(
              "job {}: checkpoint of round {} committed ({} bytes)",
              c.jobId,
              done.round(),
              done.bytes());
    }
    long oldestKept = run.checkpoints.retain();
    if (oldestKept >= 0) {
      c.journal.tell(new JobJournal.Compact(oldestKept));
      boolean logged = run.incremental();
      c.background(() -> c.io.deleteBefore(oldestKept, logged), "old checkpoints not deleted");
    }
    journalCheckpoint();
    maybePause();
  }

  /** Stops dispatching at this round boundary and checkpoints it; paused once both are durable. */
  void beginPause(long round) {
    pauseAt = round;
    c.timers.cancel(JobCoordinator.RoundDeadline.KEY);
    c.log().info("job {}: pausing after round {}", c.jobId, pauseAt);
    if (!run.checkpoints.covers(pauseAt)) {
      capture();
    }
    flush();
    maybePause();
  }

  private void maybePause() {
    if (training.stage() != Training.Stage.PAUSING
        || run.commits.durableRound() < pauseAt
        || run.checkpoints.newestKeptRound() != pauseAt) {
      return;
    }
    c.journal.send(new JobJournal.RecordPaused(pauseAt, c.acks), JobJournal.Recorded.PAUSED);
  }

  private Behavior<Command> paused() {
    c.log().info("job {}: paused after round {}; its workers are free", c.jobId, pauseAt);
    Paused paused = new Paused(c.jobId, pauseAt);
    c.watchers.tell(paused);
    c.passivateWhenIdle();
    return run.ended(paused);
  }

  /** Finishes once every round is durable and every evaluation is back. */
  Behavior<Command> maybeFinish() {
    if (training.stage() != Training.Stage.FINISHING
        || resultJson != null
        || run.checkpoints.evaluationsPending()
        || run.commits.durableRound() < run.job().totalRounds()
        || run.loop.history().isEmpty()) {
      return training;
    }
    resultJson =
        run.stats.resultJson(
            run.spec,
            run.job(),
            run.loop.state().params(),
            run.pool.live().size(),
            run.pool.assignment().nodes(),
            run.loop.history(),
            (System.currentTimeMillis() - run.inc.jobStartMillis()) / 1e3,
            run.job().totalRounds() - run.inc.restoredFrom() - run.inc.replayedFromLog(),
            run.inc.coordinatorEpoch(),
            run.recoveries.all());
    c.journal.send(
        new JobJournal.RecordCompleted(resultJson, c.acks), JobJournal.Recorded.COMPLETED);
    return training;
  }

  private Behavior<Command> completed() {
    if (run.incremental()) {
      c.background(c.io::forgetGradients, "gradient log not deleted");
    }
    Finished finished = new Finished(c.jobId, resultJson);
    c.watchers.tell(finished);
    c.passivateWhenIdle();
    return run.ended(finished);
  }
}
