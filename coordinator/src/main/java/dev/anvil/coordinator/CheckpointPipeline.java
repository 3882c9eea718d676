package dev.anvil.coordinator;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.core.train.TrainingState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;

/**
 * Which checkpoint is written and journaled when. A checkpoint is captured at a round boundary,
 * written once every evaluation up to its round is back (its history must hold them), at most one
 * write in flight and one capture waiting (a newer capture replaces the waiting one); journaled in
 * round order once its round is durable, alone or with a batch of rounds; and beyond the newest
 * {@code keep} journaled ones, deleted (retention). Pure: the actor does the writing and the
 * telling.
 */
final class CheckpointPipeline {
  /** The state of the parameters at a round boundary, waiting to be written. */
  record Captured(TrainingState state, double loss, double epochLossSum, long epochRounds) {}

  private final int keep;

  /** Evaluations not back yet, by round. */
  private final TreeSet<Long> evaluating = new TreeSet<>();

  private int pendingEvaluations;
  private Captured captured;
  private boolean writing;

  /** Written but not journaled yet (journaled once their round is durable). */
  private final List<CheckpointCommitted> written = new ArrayList<>();

  private CheckpointCommitted journaling;

  /** The journaling checkpoint went with the round batch in flight. */
  private boolean withRounds;

  /** The journaled checkpoints still kept, oldest first. */
  private final List<CheckpointCommitted> kept = new ArrayList<>();

  /** With the journaled checkpoints {@code recorded} (oldest first), of which {@code keep} stay. */
  CheckpointPipeline(List<CheckpointCommitted> recorded, int keep) {
    this.keep = keep;
    kept.addAll(recorded.subList(Math.max(0, recorded.size() - keep), recorded.size()));
  }

  /** The evaluation of round {@code round} started. */
  void evaluationStarted(long round) {
    pendingEvaluations++;
    evaluating.add(round);
  }

  /** The evaluation of round {@code round} is back. */
  void evaluated(long round) {
    pendingEvaluations--;
    evaluating.remove(round);
  }

  boolean evaluationsPending() {
    return pendingEvaluations > 0;
  }

  /** A checkpoint of {@code c}'s round is wanted (replacing one waiting, if any). */
  void capture(Captured c) {
    captured = c;
  }

  /**
   * The capture to write now, or null: none waits, one is being written, or an evaluation up to its
   * round is not back. The caller writes it and reports {@link #written} or {@link #writeFailed}.
   */
  Captured nextWrite() {
    if (captured == null
        || writing
        || (!evaluating.isEmpty() && evaluating.first() <= captured.state().round())) {
      return null;
    }
    Captured c = captured;
    captured = null;
    writing = true;
    return c;
  }

  void writeFailed() {
    writing = false;
  }

  void written(CheckpointCommitted ref) {
    writing = false;
    written.add(ref);
  }

  /** The oldest written checkpoint to journal alone now (its round is durable), or null. */
  CheckpointCommitted nextToJournal(long durableRound) {
    if (journaling != null || written.isEmpty() || written.get(0).round() > durableRound) {
      return null;
    }
    journaling = written.remove(0);
    return journaling;
  }

  /** The oldest written checkpoint to journal with rounds up to {@code lastRound}, or null. */
  CheckpointCommitted withRounds(long lastRound) {
    if (journaling != null || written.isEmpty() || written.get(0).round() > lastRound) {
      return null;
    }
    journaling = written.remove(0);
    withRounds = true;
    return journaling;
  }

  /**
   * A round batch was answered ({@code newestRecorded}: the newest checkpoint the journal holds):
   * whether the checkpoint that went with it, if any, is now journaled (then call {@link
   * #journaled}); if it went and was not recorded, it goes again.
   */
  boolean roundsAnswered(long newestRecorded) {
    if (!withRounds) {
      return false;
    }
    withRounds = false;
    if (newestRecorded >= journaling.round()) {
      return true;
    }
    requeue();
    return false;
  }

  /** The round batch went unanswered: a checkpoint that went with it goes again. */
  void roundsUnanswered() {
    if (withRounds) {
      requeue();
    }
  }

  private void requeue() {
    withRounds = false;
    written.add(0, journaling);
    journaling = null;
  }

  /** The journaling checkpoint is journaled: it is kept. Returns it (null: none was). */
  CheckpointCommitted journaled() {
    CheckpointCommitted done = journaling;
    journaling = null;
    if (done != null) {
      kept.add(done);
    }
    return done;
  }

  /**
   * Retention runs once every {@code keep} checkpoints (a journal event and deletes each time), so
   * between {@code keep} and {@code 2 keep - 1} exist: the oldest round to keep when it runs now
   * (the older ones are forgotten here), else -1.
   */
  long retain() {
    if (kept.size() < 2 * keep) {
      return -1;
    }
    long oldestKept = kept.get(kept.size() - keep).round();
    kept.subList(0, kept.size() - keep).clear();
    return oldestKept;
  }

  /** Whether a checkpoint of {@code round} is kept, written or being journaled. */
  boolean covers(long round) {
    return newestKeptRound() == round
        || written.stream().anyMatch(w -> w.round() == round)
        || journaling != null && journaling.round() == round;
  }

  /** The round of the newest kept checkpoint (-1: none). */
  long newestKeptRound() {
    return kept.isEmpty() ? -1 : kept.get(kept.size() - 1).round();
  }

  /** The kept checkpoints, newest first. */
  List<CheckpointCommitted> newestFirst() {
    List<CheckpointCommitted> refs = new ArrayList<>(kept);
    Collections.reverse(refs);
    return refs;
  }
}
