package dev.anvil.runtime;

import dev.anvil.coordinator.JobJournal;
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
 * A job's events read straight from the journal table (rows not marked deleted), decoded with
 * the actor system's serializers: the rows as stored, not what a coordinator believes it wrote.
 * The one place that knows the table's columns; the journal check, the HTTP API's job status
 * and the chaos checker's history all read through it.
 */
public final class JournalRows {
  private JournalRows() {}

  /** One stored event and its sequence number. */
  public record Row(long sequence, JobJournal.Event event) {}

  /**
   * Every event of job {@code jobId}, oldest first. A database that cannot be read is an
   * {@link IllegalStateException} naming the job and the database URL.
   */
  public static List<Row> all(ActorSystem<?> system, DatabaseSettings db, String jobId) {
    try {
      return read(system, db, jobId, "ORDER BY sequence_number", Integer.MAX_VALUE);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the journal of job " + jobId + " at "
          + db.url() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Job {@code jobId}'s newest {@code limit} events, newest first (empty: no such job), through
   * a connection of {@code pool}.
   */
  public static List<Row> newest(ActorSystem<?> system, javax.sql.DataSource pool, String jobId,
      int limit) throws SQLException {
    return read(system, pool::getConnection, jobId, "ORDER BY sequence_number DESC", limit);
  }

  /** Opens a connection. */
  private interface Connector {
    Connection open() throws SQLException;
  }

  private static List<Row> read(ActorSystem<?> system, DatabaseSettings db, String jobId,
      String order, int limit) throws SQLException {
    return read(system, db::connect, jobId, order, limit);
  }

  private static List<Row> read(ActorSystem<?> system, Connector connector, String jobId,
      String order, int limit) throws SQLException {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
    List<Row> rows = new ArrayList<>();
    try (Connection c = connector.open();
        PreparedStatement q = c.prepareStatement("SELECT sequence_number, event_ser_id,"
            + " event_ser_manifest, event_payload FROM event_journal WHERE persistence_id = ?"
            + " AND NOT deleted " + order + " LIMIT ?")) {
      q.setString(1, JobJournal.persistenceId(jobId).id());
      q.setInt(2, limit);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getLong(1), (JobJournal.Event) serialization.deserialize(
              rs.getBytes(4), rs.getInt(2), rs.getString(3)).get()));
        }
      }
    }
    return rows;
  }
}
