package dev.anvil.runtime.journal;

import dev.anvil.coordinator.JobJournal;
import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.persistence.DatabaseSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Reads a job's events straight from the journal table, in sequence-number order, and checks what
 * the fault-tolerance contract promises: rounds 1..N committed exactly once and in order, and no
 * event written by a coordinator incarnation after a newer one had started (a single-writer
 * violation). Independent of the coordinator's own bookkeeping: it sees only the rows.
 */
public final class JournalCheck {
  private JournalCheck() {}

  /** What the journal holds for one job. */
  public record Report(
      String jobId,
      long events,
      long epochs,
      long roundsCommitted,
      long lastRound,
      List<Long> duplicated,
      List<Long> missing,
      long outOfOrder,
      long singleWriterViolations,
      long recoveries,
      long checkpoints,
      long importedAt,
      long firstRound,
      boolean compacted,
      boolean completed) {

    /**
     * Rounds {@code firstRound}..{@code total} are each committed exactly once, in order, by one
     * writer at a time. {@code firstRound} is 1, or the round after an import, or, once old events
     * were deleted (compacted), the oldest round still in the journal.
     */
    public boolean exactlyOnce(long total) {
      return lastRound == total
          && roundsCommitted == total - firstRound + 1
          && duplicated.isEmpty()
          && missing.isEmpty()
          && outOfOrder == 0
          && singleWriterViolations == 0;
    }

    @Override
    public String toString() {
      return "job "
          + jobId
          + ": "
          + events
          + " events, "
          + epochs
          + " coordinator epochs, "
          + roundsCommitted
          + " rounds committed (last "
          + lastRound
          + "), duplicated "
          + duplicated
          + ", missing "
          + (missing.size() > 10 ? missing.subList(0, 10) + "..." : missing)
          + ", out of order "
          + outOfOrder
          + ", single-writer violations "
          + singleWriterViolations
          + ", recoveries "
          + recoveries
          + ", checkpoints "
          + checkpoints
          + (importedAt > 0 ? ", imported at round " + importedAt : "")
          + (compacted ? ", compacted: rounds from " + firstRound : "")
          + (completed ? ", completed" : ", not completed");
    }
  }

  /** Reads job {@code jobId}'s events with {@code system}'s serializers. */
  public static Report check(ActorSystem<?> system, DatabaseSettings db, String jobId) {
    return of(
        jobId, JournalRows.all(system, db, jobId).stream().map(JournalRows.Row::event).toList());
  }

  /** Checks events in sequence-number order. */
  public static Report of(String jobId, List<Event> events) {
    long newestEpoch = 0;
    long epochs = 0;
    long violations = 0;
    long highest = 0;
    long outOfOrder = 0;
    long recoveries = 0;
    long checkpoints = 0;
    long importedAt = 0;
    // Events before a compaction are deleted: the oldest round left starts the count.
    boolean compacted = events.stream().anyMatch(JobJournal.JournalCompacted.class::isInstance);
    boolean completed = false;
    TreeMap<Long, Integer> counts = new TreeMap<>();
    for (Event e : events) {
      if (e instanceof CoordinatorStarted s) {
        epochs++;
        if (s.epoch() <= newestEpoch) {
          violations++; // an epoch not newer than one already started
        }
        newestEpoch = Math.max(newestEpoch, s.epoch());
        continue;
      }
      if (e.epoch() > 0 && e.epoch() < newestEpoch) {
        violations++;
      }
      if (e instanceof RoundCommitted r) {
        if (compacted && counts.isEmpty()) {
          highest = r.round() - 1;
        }
        boolean seen = counts.containsKey(r.round());
        counts.merge(r.round(), 1, Integer::sum);
        if (!seen && r.round() != highest + 1) {
          outOfOrder++; // a gap or a step back (a repeat counts as duplicated instead)
        }
        highest = Math.max(highest, r.round());
      } else if (e instanceof JobJournal.RecoveryRecorded) {
        recoveries++;
      } else if (e instanceof JobJournal.CheckpointCommitted) {
        checkpoints++;
      } else if (e instanceof JobJournal.JournalCompacted c) {
        // What the deleted events said lives on in the summary.
        newestEpoch = Math.max(newestEpoch, c.summary().epoch());
        recoveries = c.summary().recoveries().size();
        importedAt = Math.max(importedAt, c.summary().importedAt());
      } else if (e instanceof JobJournal.JobImported i) {
        importedAt = i.round();
        highest = i.round();
      } else if (e instanceof JobJournal.JobCompleted) {
        completed = true;
      }
    }
    List<Long> duplicated = new ArrayList<>();
    List<Long> missing = new ArrayList<>();
    counts.forEach(
        (round, n) -> {
          if (n > 1) {
            duplicated.add(round);
          }
        });
    long first = compacted && !counts.isEmpty() ? counts.firstKey() : importedAt + 1;
    for (long r = first; r <= highest; r++) {
      if (!counts.containsKey(r)) {
        missing.add(r);
      }
    }
    long committed = counts.size();
    return new Report(
        jobId,
        events.size(),
        Math.max(epochs, newestEpoch),
        committed,
        highest,
        duplicated,
        missing,
        outOfOrder,
        violations,
        recoveries,
        checkpoints,
        importedAt,
        first,
        compacted,
        completed);
  }
}
