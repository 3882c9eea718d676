package dev.anvil.chaos.history;

import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.journal.JournalRows;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Reads a job's events straight from the journal table, sequence by sequence, into a {@link
 * History}: the rows as stored, not what any coordinator believes it wrote.
 */
public final class JournalReader {
  private JournalReader() {}

  /** Reads job {@code jobId}'s events with {@code system}'s serializers into {@code history}. */
  public static void read(
      ActorSystem<?> system, DatabaseSettings db, String jobId, History history) {
    List<History.Commit> commits = new ArrayList<>();
    List<History.Written> written = new ArrayList<>();
    for (JournalRows.Row row : JournalRows.all(system, db, jobId)) {
      Event e = row.event();
      written.add(new History.Written(row.sequence(), kind(e), e.epoch()));
      if (e instanceof RoundCommitted r) {
        commits.add(
            new History.Commit(row.sequence(), r.round(), r.epoch(), r.epochMillis(), r.loss()));
      }
    }
    history.journal(commits, written);
  }

  /** "coordinator-started", "round-committed", ...: the event's type in words. */
  static String kind(Event e) {
    if (e instanceof CoordinatorStarted) {
      return "coordinator-started";
    }
    return e.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase();
  }
}
