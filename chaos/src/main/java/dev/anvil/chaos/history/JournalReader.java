package dev.anvil.chaos.history;

import dev.anvil.coordinator.JobJournal;
import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.persistence.DatabaseSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Reads a job's events straight from the journal table, sequence by sequence, into a
 * {@link History}: the rows as stored, not what any coordinator believes it wrote.
 */
public final class JournalReader {
  private JournalReader() {}

  /** Reads job {@code jobId}'s events with {@code system}'s serializers into {@code history}. */
  public static void read(ActorSystem<?> system, DatabaseSettings db, String jobId,
      History history) {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
    List<History.Commit> commits = new ArrayList<>();
    List<History.Written> written = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement q = c.prepareStatement("SELECT sequence_number, event_ser_id,"
            + " event_ser_manifest, event_payload FROM event_journal WHERE persistence_id = ?"
            + " AND NOT deleted ORDER BY sequence_number")) {
      q.setString(1, JobJournal.persistenceId(jobId).id());
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          long sequence = rs.getLong(1);
          Event e = (Event) serialization.deserialize(rs.getBytes(4), rs.getInt(2),
              rs.getString(3)).get();
          written.add(new History.Written(sequence, kind(e), e.epoch()));
          if (e instanceof RoundCommitted r) {
            commits.add(new History.Commit(sequence, r.round(), r.epoch(), r.epochMillis(),
                r.loss()));
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the journal of job " + jobId + " at "
          + db.url() + ": " + e.getMessage(), e);
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
