package dev.anvil.coordinator;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.JobCancelled;
import dev.anvil.coordinator.JobJournal.JobCompleted;
import dev.anvil.coordinator.JobJournal.JobImported;
import dev.anvil.coordinator.JobJournal.JobPaused;
import dev.anvil.coordinator.JobJournal.JobResumed;
import dev.anvil.coordinator.JobJournal.JobSubmitted;
import dev.anvil.coordinator.JobJournal.JournalCompacted;
import dev.anvil.coordinator.JobJournal.RecoveryRecorded;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.core.train.Recovery;
import java.util.ArrayList;
import java.util.List;

/**
 * The job as its journal ({@link JobJournal}) knows it: the newest epoch, the newest committed
 * round with its loss and wall-clock time, the recoveries so far, the newest checkpoints (newest
 * last, at most {@value #CHECKPOINT_REFS}), whether it is paused, the round it was imported at
 * (0: it started here), the outcome once there is one ({@code failure} also for a cancelled
 * job), and when the job's first coordinator started ({@code startedMillis}, 0 before it did).
 *
 * <p>Immutable: every change returns a new state. Stored inside {@link JournalCompacted}, field
 * by field ({@link JournalFormat#COMPACTED}).
 */
public record JournalState(String spec, int workers, long epoch, long lastRound,
    double lastLoss, long lastRoundMillis, List<Recovery> recoveries,
    List<CheckpointCommitted> checkpoints, boolean paused, long importedAt, String result,
    String failure, long startedMillis) {
  static final int CHECKPOINT_REFS = 16;
  /** A job the journal has never heard of. */
  static final JournalState EMPTY = new JournalState(null, 0, 0, 0, Double.NaN, 0, List.of(),
      List.of(), false, 0, null, null, 0);

  public boolean submitted() {
    return spec != null;
  }

  public boolean finished() {
    return result != null || failure != null;
  }

  /** Checkpoint {@code k} is due: newer than the newest, its round durable by {@code last}. */
  boolean takes(CheckpointCommitted k, long last) {
    return k.round() <= last && (checkpoints.isEmpty() || k.round() > newestCheckpoint().round());
  }

  /** The newest checkpoint, or null. */
  public CheckpointCommitted newestCheckpoint() {
    return checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1);
  }

  /** The job's spec and how many workers it wants. */
  JournalState withJob(String spec, int workers) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, checkpoints, paused, importedAt, result, failure, startedMillis);
  }

  JournalState withEpoch(long epoch) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, checkpoints, paused, importedAt, result, failure, startedMillis);
  }

  /** The newest committed round, its loss and when it was committed (0: unknown). */
  JournalState withLastRound(long round, double loss, long millis) {
    return new JournalState(spec, workers, epoch, round, loss, millis, recoveries, checkpoints,
        paused, importedAt, result, failure, startedMillis);
  }

  JournalState withRecoveries(List<Recovery> recoveries) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        List.copyOf(recoveries), checkpoints, paused, importedAt, result, failure,
        startedMillis);
  }

  /** With {@code recovery} after the others. */
  JournalState withRecovery(Recovery recovery) {
    return withRecoveries(append(recoveries, recovery, Integer.MAX_VALUE));
  }

  /** With checkpoint {@code k} as the newest; the oldest beyond {@value #CHECKPOINT_REFS} go. */
  JournalState withCheckpoint(CheckpointCommitted k) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, append(checkpoints, k, CHECKPOINT_REFS), paused, importedAt, result,
        failure, startedMillis);
  }

  JournalState withPaused(boolean paused) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, checkpoints, paused, importedAt, result, failure, startedMillis);
  }

  JournalState withImportedAt(long round) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, checkpoints, paused, round, result, failure, startedMillis);
  }

  /** The result (JSON) of a completed job. */
  JournalState withResult(String result) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, checkpoints, paused, importedAt, result, failure, startedMillis);
  }

  /** Why a failed or cancelled job ended. */
  JournalState withFailure(String failure) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, checkpoints, paused, importedAt, result, failure, startedMillis);
  }

  JournalState withStartedMillis(long millis) {
    return new JournalState(spec, workers, epoch, lastRound, lastLoss, lastRoundMillis,
        recoveries, checkpoints, paused, importedAt, result, failure, millis);
  }

  JournalState apply(Event e) {
    if (e instanceof JobSubmitted s) {
      return withJob(s.spec(), s.workers());
    } else if (e instanceof JobImported i) {
      return withJob(i.spec(), i.workers()).withLastRound(i.round(), i.loss(), 0)
          .withImportedAt(i.round());
    } else if (e instanceof CoordinatorStarted c) {
      return withEpoch(Math.max(epoch, c.epoch()))
          .withStartedMillis(startedMillis > 0 ? startedMillis : c.epochMillis());
    } else if (e instanceof RoundCommitted r) {
      return r.round() <= lastRound ? this : withLastRound(r.round(), r.loss(), r.epochMillis());
    } else if (e instanceof RecoveryRecorded r) {
      return withRecovery(r.recovery());
    } else if (e instanceof CheckpointCommitted c) {
      return withCheckpoint(c);
    } else if (e instanceof JobPaused || e instanceof JobResumed) {
      return withPaused(e instanceof JobPaused);
    } else if (e instanceof JobCompleted c) {
      return withPaused(false).withResult(c.resultJson());
    } else if (e instanceof JournalCompacted c) {
      return c.summary();
    } else if (e instanceof JobCancelled c) {
      return withPaused(false).withFailure(c.reason());
    }
    return withPaused(false).withFailure(((JobJournal.JobFailed) e).reason());
  }

  private static <T> List<T> append(List<T> list, T item, int keep) {
    List<T> more = new ArrayList<>(list);
    more.add(item);
    return List.copyOf(more.subList(Math.max(0, more.size() - keep), more.size()));
  }
}
