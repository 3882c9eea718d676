package dev.anvil.runtime.journal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.anvil.coordinator.JobJournal;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.JournalTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Jobs' events read straight from the journal table (rows not marked deleted), decoded with the
 * actor system's serializers: the rows as stored, not what a coordinator believes it wrote. The one
 * place outside the persistence module that holds SQL and knows the table's columns (its name is
 * the node's {@link JournalTable}); the journal check, the HTTP API and the chaos checker's history
 * all read through it.
 */
public final class JournalRows {
  /** The columns of an event, in the order {@link #event} reads them after the first. */
  private static final String EVENT_COLUMNS =
      "sequence_number, event_ser_id," + " event_ser_manifest, event_payload";

  private JournalRows() {}

  /**
   * The newest events of each of the first jobs by id in journal table {@code table}, one indexed
   * scan per job: the jobs (persistence ids with the jobs' prefix, sorted, at most the first
   * limit), then each one's newest rows (at most the second limit), jobs in id order and each job's
   * rows newest first.
   */
  private static String newestOfJobs(String table) {
    return "WITH jobs AS (SELECT DISTINCT persistence_id FROM "
        + table
        + " WHERE persistence_id LIKE ? ORDER BY persistence_id LIMIT ?)"
        + " SELECT jobs.persistence_id, e.* FROM jobs"
        + " CROSS JOIN LATERAL (SELECT "
        + EVENT_COLUMNS
        + " FROM "
        + table
        + " WHERE persistence_id = jobs.persistence_id AND NOT deleted"
        + " ORDER BY sequence_number DESC LIMIT ?) e"
        + " ORDER BY jobs.persistence_id, e.sequence_number DESC";
  }

  /** One stored event and its sequence number. */
  public record Row(long sequence, JobJournal.Event event) {}

  /**
   * A pool of at most {@code size} connections to the journal's database, named {@code name}. It
   * opens none until asked, so the database may come up later; until then reads fail.
   */
  public static HikariDataSource pool(DatabaseSettings db, String name, int size) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(db.url());
    c.setUsername(db.user());
    c.setPassword(db.password());
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(0);
    c.setConnectionTimeout(5_000);
    c.setInitializationFailTimeout(-1);
    c.setPoolName(name);
    return new HikariDataSource(c);
  }

  /**
   * Every event of job {@code jobId}, oldest first. A database that cannot be read is an {@link
   * IllegalStateException} naming the job and the database URL.
   */
  public static List<Row> all(ActorSystem<?> system, DatabaseSettings db, String jobId) {
    try {
      return read(system, db::connect, jobId, "ORDER BY sequence_number", Integer.MAX_VALUE);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot read the journal of job " + jobId + " at " + db.url() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Job {@code jobId}'s newest {@code limit} events, newest first (empty: no such job), through a
   * connection of {@code pool}.
   */
  public static List<Row> newest(ActorSystem<?> system, DataSource pool, String jobId, int limit)
      throws SQLException {
    return read(system, pool::getConnection, jobId, "ORDER BY sequence_number DESC", limit);
  }

  /**
   * The newest {@code limit} events (newest first) of each of the first {@code jobs} jobs the
   * journal holds, by job id in the database's order, in one query; a job whose events are all
   * deleted is left out.
   */
  public static Map<String, List<Row>> newestOfJobs(
      ActorSystem<?> system, DataSource pool, int jobs, int limit) throws SQLException {
    Serialization serialization = serialization(system);
    String prefix = prefix();
    Map<String, List<Row>> out = new LinkedHashMap<>();
    try (Connection c = pool.getConnection();
        PreparedStatement q = c.prepareStatement(newestOfJobs(table(system)))) {
      q.setString(1, prefix.replace("%", "\\%").replace("_", "\\_") + "%");
      q.setInt(2, jobs);
      q.setInt(3, limit);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          out.computeIfAbsent(rs.getString(1).substring(prefix.length()), id -> new ArrayList<>())
              .add(event(serialization, rs, 2));
        }
      }
    }
    return out;
  }

  /** Whether the journal holds any event of the job (one indexed row read, nothing decoded). */
  public static boolean exists(ActorSystem<?> system, DataSource pool, String jobId)
      throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement q =
            c.prepareStatement(
                "SELECT 1 FROM " + table(system) + " WHERE persistence_id = ? LIMIT 1")) {
      q.setString(1, JobJournal.persistenceId(jobId).id());
      try (ResultSet rs = q.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Opens a connection. */
  private interface Connector {
    Connection open() throws SQLException;
  }

  private static List<Row> read(
      ActorSystem<?> system, Connector connector, String jobId, String order, int limit)
      throws SQLException {
    Serialization serialization = serialization(system);
    List<Row> rows = new ArrayList<>();
    try (Connection c = connector.open();
        PreparedStatement q =
            c.prepareStatement(
                "SELECT "
                    + EVENT_COLUMNS
                    + " FROM "
                    + table(system)
                    + " WHERE persistence_id = ? AND NOT deleted "
                    + order
                    + " LIMIT ?")) {
      q.setString(1, JobJournal.persistenceId(jobId).id());
      q.setInt(2, limit);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          rows.add(event(serialization, rs, 1));
        }
      }
    }
    return rows;
  }

  /** The event whose {@link #EVENT_COLUMNS} start at column {@code first} of the current row. */
  private static Row event(Serialization serialization, ResultSet rs, int first)
      throws SQLException {
    return new Row(
        rs.getLong(first),
        (JobJournal.Event)
            serialization
                .deserialize(rs.getBytes(first + 3), rs.getInt(first + 1), rs.getString(first + 2))
                .get());
  }

  /** The journal table of {@code system}'s config. */
  private static String table(ActorSystem<?> system) {
    return JournalTable.name(system.settings().config());
  }

  private static Serialization serialization(ActorSystem<?> system) {
    return SerializationExtension.get(Adapter.toClassic(system));
  }

  /** What every job's persistence id starts with; the job id follows. */
  private static String prefix() {
    return JobJournal.persistenceId("").id();
  }
}
