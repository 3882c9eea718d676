package dev.anvil.coordinator;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.JournalCompacted;
import dev.anvil.core.train.Recovery;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The job as its journal ({@link JobJournal}) knows it: the newest epoch, the newest committed
 * round with its loss and wall-clock time, the recoveries so far, the newest checkpoints (newest
 * last, at most {@value #CHECKPOINT_REFS}), whether it is paused, the round it was imported at (0:
 * it started here), the outcome once there is one ({@code failure} also for a cancelled job), when
 * the job's first coordinator started ({@code startedMillis}, 0 before it did), and the sequence
 * numbers of the incarnations' {@link CoordinatorStarted} events ({@code epochStarts}): those rows
 * are never deleted, because a zombie's next write lands on the sequence number of the incarnation
 * after it and that row's key is what refuses the write.
 *
 * <p>Immutable: every change returns a new state. Stored inside {@link JournalCompacted}, field by
 * field ({@link JournalFormat#COMPACTED}), all but {@code epochStarts}.
 */
public record JournalState(
    String spec,
    int workers,
    long epoch,
    long lastRound,
    double lastLoss,
    long lastRoundMillis,
    List<Recovery> recoveries,
    List<CheckpointCommitted> checkpoints,
    boolean paused,
    long importedAt,
    String result,
    String failure,
    long startedMillis,
    Set<Long> epochStarts) {
  static final int CHECKPOINT_REFS = 16;

  /** A job the journal has never heard of. */
  static final JournalState EMPTY =
      new JournalState(null, 0, 0, 0, Double.NaN, 0, List.of(), List.of(), false, 0, null, null, 0);

  public JournalState {
    epochStarts = Set.copyOf(epochStarts);
  }

  /** A state as {@link JournalCompacted} stores it: without epoch starts. */
  public JournalState(
      String spec,
      int workers,
      long epoch,
      long lastRound,
      double lastLoss,
      long lastRoundMillis,
      List<Recovery> recoveries,
      List<CheckpointCommitted> checkpoints,
      boolean paused,
      long importedAt,
      String result,
      String failure,
      long startedMillis) {
    this(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        Set.of());
  }

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
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  JournalState withEpoch(long epoch) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  /** The newest committed round, its loss and when it was committed (0: unknown). */
  JournalState withLastRound(long round, double loss, long millis) {
    return new JournalState(
        spec,
        workers,
        epoch,
        round,
        loss,
        millis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  JournalState withRecoveries(List<Recovery> recoveries) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        List.copyOf(recoveries),
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  /** With {@code recovery} after the others. */
  JournalState withRecovery(Recovery recovery) {
    return withRecoveries(append(recoveries, recovery, Integer.MAX_VALUE));
  }

  /** With checkpoint {@code k} as the newest; the oldest beyond {@value #CHECKPOINT_REFS} go. */
  JournalState withCheckpoint(CheckpointCommitted k) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        append(checkpoints, k, CHECKPOINT_REFS),
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  JournalState withPaused(boolean paused) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  JournalState withImportedAt(long round) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        round,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  /** The result (JSON) of a completed job. */
  JournalState withResult(String result) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  /** Why a failed or cancelled job ended. */
  JournalState withFailure(String failure) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        epochStarts);
  }

  JournalState withStartedMillis(long millis) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        millis,
        epochStarts);
  }

  JournalState withEpochStarts(Set<Long> sequenceNumbers) {
    return new JournalState(
        spec,
        workers,
        epoch,
        lastRound,
        lastLoss,
        lastRoundMillis,
        recoveries,
        checkpoints,
        paused,
        importedAt,
        result,
        failure,
        startedMillis,
        sequenceNumbers);
  }

  /** With an incarnation's start at {@code sequenceNumber}. */
  JournalState withEpochStart(long sequenceNumber) {
    Set<Long> more = new HashSet<>(epochStarts);
    more.add(sequenceNumber);
    return withEpochStarts(more);
  }

  /** The state after {@code e}: what each event type changes is its {@link Event#applyTo}. */
  JournalState apply(Event e) {
    return e.applyTo(this);
  }

  private static <T> List<T> append(List<T> list, T item, int keep) {
    List<T> more = new ArrayList<>(list);
    more.add(item);
    return List.copyOf(more.subList(Math.max(0, more.size() - keep), more.size()));
  }
}
