package dev.anvil.persistence;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Set;

/**
 * Deletes a job's old events from pekko-persistence-jdbc's journal table with one DELETE. The typed
 * persistence API deletes events only together with snapshots (which Anvil does not use for the
 * job's record, see docs/design.md); the table's layout is the plugin's published schema. The
 * caller keeps the newest event, so the plugin's sequence numbers go on, and every incarnation's
 * start (the fencing of zombies depends on those rows' keys).
 */
public final class JdbcEventDeleter implements EventDeleter {
  private final DatabaseSettings db;
  private final String table;

  JdbcEventDeleter(DatabaseSettings db, String table) {
    this.db = db;
    this.table = table;
  }

  /** From a node's config: the journal's database and table ({@link JournalTable}). */
  public static JdbcEventDeleter from(Config config) {
    return new JdbcEventDeleter(DatabaseSettings.from(config), JournalTable.name(config));
  }

  @Override
  public void deleteBefore(String persistenceId, long sequenceNumber, Set<Long> kept) {
    try (Connection c = db.connect();
        PreparedStatement p =
            c.prepareStatement(
                "DELETE FROM "
                    + table
                    + " WHERE persistence_id = ? AND sequence_number < ?"
                    + " AND NOT (sequence_number = ANY (?))")) {
      p.setString(1, persistenceId);
      p.setLong(2, sequenceNumber);
      p.setArray(3, c.createArrayOf("bigint", kept.toArray()));
      p.executeUpdate();
    } catch (SQLException e) {
      throw new DatabaseException(
          "cannot delete old events of "
              + persistenceId
              + " in "
              + db.url()
              + ": "
              + e.getMessage(),
          e);
    }
  }
}
