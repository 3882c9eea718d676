package dev.anvil.coordinator;

import static dev.anvil.core.wire.Persisted.readString;
import static dev.anvil.core.wire.Persisted.writeString;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.JobCancelled;
import dev.anvil.coordinator.JobJournal.JobCompleted;
import dev.anvil.coordinator.JobJournal.JobFailed;
import dev.anvil.coordinator.JobJournal.JobImported;
import dev.anvil.coordinator.JobJournal.JobPaused;
import dev.anvil.coordinator.JobJournal.JobResumed;
import dev.anvil.coordinator.JobJournal.JobSubmitted;
import dev.anvil.coordinator.JobJournal.JournalCompacted;
import dev.anvil.coordinator.JobJournal.RecoveryRecorded;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.wire.Persisted;
import java.util.List;

/**
 * How every journal event is stored, one {@link Persisted} encoding per type with its version
 * history. To change a stored type: add a version here (the reader keeps a branch for every older
 * one), then add golden fixtures of the new version (JournalFormatTest) and keep the old ones: they
 * prove journals written by earlier releases still load.
 */
final class JournalFormat {
  private JournalFormat() {}

  /** Version 1: spec, workers. */
  static final Persisted<JobSubmitted> SUBMITTED =
      Persisted.of(
          JobSubmitted.class,
          1,
          (k, out, e) -> {
            writeString(k, out, e.spec());
            out.writeVarInt(e.workers(), true);
          },
          (k, in, v) -> new JobSubmitted(readString(k, in), in.readVarInt(true)));

  /** Version 1: round, loss, samples, epochMillis, epoch. */
  static final Persisted<RoundCommitted> ROUND =
      Persisted.of(
          RoundCommitted.class,
          1,
          (k, out, e) -> {
            out.writeVarLong(e.round(), true);
            out.writeDouble(e.loss());
            out.writeVarLong(e.samples(), true);
            out.writeVarLong(e.epochMillis(), true);
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) ->
              new RoundCommitted(
                  in.readVarLong(true),
                  in.readDouble(),
                  in.readVarLong(true),
                  in.readVarLong(true),
                  in.readVarLong(true)));

  /** Version 1: resultJson, epoch. */
  static final Persisted<JobCompleted> COMPLETED =
      Persisted.of(
          JobCompleted.class,
          1,
          (k, out, e) -> {
            writeString(k, out, e.resultJson());
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) -> new JobCompleted(readString(k, in), in.readVarLong(true)));

  /** Version 1: reason, epoch. */
  static final Persisted<JobFailed> FAILED =
      Persisted.of(
          JobFailed.class,
          1,
          (k, out, e) -> {
            writeString(k, out, e.reason());
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) -> new JobFailed(readString(k, in), in.readVarLong(true)));

  /**
   * Version 2: epoch, node, epochMillis, sequenceNumber (the event's own, kept when old events are
   * deleted). Version 1 had no sequenceNumber: read as 0 (unknown).
   */
  static final Persisted<CoordinatorStarted> STARTED =
      Persisted.of(
          CoordinatorStarted.class,
          2,
          (k, out, e) -> {
            out.writeVarLong(e.epoch(), true);
            writeString(k, out, e.node());
            out.writeVarLong(e.epochMillis(), true);
            out.writeVarLong(e.sequenceNumber(), true);
          },
          (k, in, v) ->
              new CoordinatorStarted(
                  in.readVarLong(true),
                  readString(k, in),
                  in.readVarLong(true),
                  v >= 2 ? in.readVarLong(true) : 0));

  /**
   * Version 2: recovery (its own versioned encoding), epoch; its recovery is written in {@code
   * Recovery}'s version 2 (with lastHeardMillis). Version 1 holds a version 1 recovery: the same
   * fields, read the same way.
   */
  static final Persisted<RecoveryRecorded> RECOVERY =
      Persisted.of(
          RecoveryRecorded.class,
          2,
          (k, out, e) -> {
            k.writeObject(out, e.recovery());
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) ->
              new RecoveryRecorded(k.readObject(in, Recovery.class), in.readVarLong(true)));

  /** Version 1: round, location, checksum, bytes, epoch. */
  static final Persisted<CheckpointCommitted> CHECKPOINT =
      Persisted.of(
          CheckpointCommitted.class,
          1,
          (k, out, e) -> {
            out.writeVarLong(e.round(), true);
            writeString(k, out, e.location());
            writeString(k, out, e.checksum());
            out.writeVarLong(e.bytes(), true);
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) ->
              new CheckpointCommitted(
                  in.readVarLong(true),
                  readString(k, in),
                  readString(k, in),
                  in.readVarLong(true),
                  in.readVarLong(true)));

  /** Version 1: round, epoch. */
  static final Persisted<JobPaused> PAUSED =
      Persisted.of(
          JobPaused.class,
          1,
          (k, out, e) -> {
            out.writeVarLong(e.round(), true);
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) -> new JobPaused(in.readVarLong(true), in.readVarLong(true)));

  /** Version 1: by, epochMillis, epoch. */
  static final Persisted<JobResumed> RESUMED =
      Persisted.of(
          JobResumed.class,
          1,
          (k, out, e) -> {
            writeString(k, out, e.by());
            out.writeVarLong(e.epochMillis(), true);
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) ->
              new JobResumed(readString(k, in), in.readVarLong(true), in.readVarLong(true)));

  /** Version 1: reason, epoch. */
  static final Persisted<JobCancelled> CANCELLED =
      Persisted.of(
          JobCancelled.class,
          1,
          (k, out, e) -> {
            writeString(k, out, e.reason());
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) -> new JobCancelled(readString(k, in), in.readVarLong(true)));

  /** Version 1: spec, workers, round, loss, sourceJob. */
  static final Persisted<JobImported> IMPORTED =
      Persisted.of(
          JobImported.class,
          1,
          (k, out, e) -> {
            writeString(k, out, e.spec());
            out.writeVarInt(e.workers(), true);
            out.writeVarLong(e.round(), true);
            out.writeDouble(e.loss());
            writeString(k, out, e.sourceJob());
          },
          (k, in, v) ->
              new JobImported(
                  readString(k, in),
                  in.readVarInt(true),
                  in.readVarLong(true),
                  in.readDouble(),
                  readString(k, in)));

  /**
   * Version 2: the state (spec, workers, epoch, lastRound, lastLoss, lastRoundMillis, recoveries,
   * checkpoints, paused, importedAt, result, failure, startedMillis), deletedBefore, epoch. Version
   * 1 had no startedMillis: read as 0 (unknown).
   */
  static final Persisted<JournalCompacted> COMPACTED =
      Persisted.of(
          JournalCompacted.class,
          2,
          (k, out, e) -> {
            JournalState s = e.summary();
            writeString(k, out, s.spec());
            out.writeVarInt(s.workers(), true);
            out.writeVarLong(s.epoch(), true);
            out.writeVarLong(s.lastRound(), true);
            out.writeDouble(s.lastLoss());
            out.writeVarLong(s.lastRoundMillis(), true);
            out.writeVarInt(s.recoveries().size(), true);
            s.recoveries().forEach(r -> k.writeObject(out, r));
            out.writeVarInt(s.checkpoints().size(), true);
            s.checkpoints().forEach(c -> k.writeObject(out, c));
            out.writeBoolean(s.paused());
            out.writeVarLong(s.importedAt(), true);
            writeString(k, out, s.result());
            writeString(k, out, s.failure());
            out.writeVarLong(s.startedMillis(), true);
            out.writeVarLong(e.deletedBefore(), true);
            out.writeVarLong(e.epoch(), true);
          },
          (k, in, v) -> {
            String spec = readString(k, in);
            int workers = in.readVarInt(true);
            long epoch = in.readVarLong(true);
            long lastRound = in.readVarLong(true);
            double lastLoss = in.readDouble();
            long lastRoundMillis = in.readVarLong(true);
            List<Recovery> recoveries = new java.util.ArrayList<>();
            for (int i = in.readVarInt(true); i > 0; i--) {
              recoveries.add(k.readObject(in, Recovery.class));
            }
            List<CheckpointCommitted> checkpoints = new java.util.ArrayList<>();
            for (int i = in.readVarInt(true); i > 0; i--) {
              checkpoints.add(k.readObject(in, CheckpointCommitted.class));
            }
            boolean paused = in.readBoolean();
            long importedAt = in.readVarLong(true);
            String result = readString(k, in);
            String failure = readString(k, in);
            long startedMillis = v >= 2 ? in.readVarLong(true) : 0;
            return new JournalCompacted(
                new JournalState(
                    spec,
                    workers,
                    epoch,
                    lastRound,
                    lastLoss,
                    lastRoundMillis,
                    List.copyOf(recoveries),
                    List.copyOf(checkpoints),
                    paused,
                    importedAt,
                    result,
                    failure,
                    startedMillis),
                in.readVarLong(true),
                in.readVarLong(true));
          });

  /** Every stored type with its wire id (fixed forever) and encoding. */
  record Entry<T>(Class<T> type, int id, Persisted<T> format) {}

  static final List<Entry<?>> ENTRIES =
      List.of(
          new Entry<>(JobSubmitted.class, 350, SUBMITTED),
          new Entry<>(RoundCommitted.class, 351, ROUND),
          new Entry<>(JobCompleted.class, 352, COMPLETED),
          new Entry<>(JobFailed.class, 353, FAILED),
          new Entry<>(CoordinatorStarted.class, 354, STARTED),
          new Entry<>(RecoveryRecorded.class, 355, RECOVERY),
          new Entry<>(CheckpointCommitted.class, 356, CHECKPOINT),
          new Entry<>(JobPaused.class, 357, PAUSED),
          new Entry<>(JobResumed.class, 358, RESUMED),
          new Entry<>(JobCancelled.class, 359, CANCELLED),
          new Entry<>(JobImported.class, 360, IMPORTED),
          new Entry<>(JournalCompacted.class, 361, COMPACTED));
}
