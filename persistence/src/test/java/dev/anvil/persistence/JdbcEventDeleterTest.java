package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Deleting a job's old events from the plugin's journal table, in a real PostgreSQL. */
class JdbcEventDeleterTest {
  @RegisterExtension static final TestDatabase database = new TestDatabase();

  static String table;

  @BeforeAll
  static void schema() {
    JournalSchema.createIfMissing(database.settings());
    table = JournalTable.name(ConfigFactory.load());
  }

  /** Rows 1..{@code count} of {@code persistenceId}, as the plugin would write them. */
  private static void write(String persistenceId, int count) throws SQLException {
    try (Connection c = database.settings().connect();
        PreparedStatement p =
            c.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (persistence_id, sequence_number, writer, event_ser_id,"
                    + " event_ser_manifest, event_payload) VALUES (?, ?, 'w', 1, 'm', '\\x00'::bytea)")) {
      for (int n = 1; n <= count; n++) {
        p.setString(1, persistenceId);
        p.setLong(2, n);
        p.executeUpdate();
      }
    }
  }

  private static List<Long> sequenceNumbers(String persistenceId) throws SQLException {
    List<Long> numbers = new ArrayList<>();
    try (Connection c = database.settings().connect();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT sequence_number FROM "
                    + table
                    + " WHERE persistence_id = ?"
                    + " ORDER BY sequence_number")) {
      p.setString(1, persistenceId);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          numbers.add(r.getLong(1));
        }
      }
    }
    return numbers;
  }

  @Test
  void deletesTheJobsEventsBeforeTheSequenceNumberButTheKeptOnes() throws SQLException {
    write("anvil-job|a", 8);
    write("anvil-job|b", 8);
    new JdbcEventDeleter(database.settings(), table).deleteBefore("anvil-job|a", 6, Set.of(2L, 4L));
    assertEquals(List.of(2L, 4L, 6L, 7L, 8L), sequenceNumbers("anvil-job|a"));
    assertEquals(8, sequenceNumbers("anvil-job|b").size(), "another job's events stay");

    new JdbcEventDeleter(database.settings(), table).deleteBefore("anvil-job|a", 8, Set.of());
    assertEquals(List.of(8L), sequenceNumbers("anvil-job|a"), "again, with nothing kept");
  }

  @Test
  void aTableThatIsNotThereFailsNamingTheJobAndTheDatabase() {
    DatabaseException e =
        assertThrows(
            DatabaseException.class,
            () ->
                new JdbcEventDeleter(database.settings(), "no_such_table")
                    .deleteBefore("anvil-job|c", 3, Set.of()));
    assertTrue(
        e.getMessage()
            .startsWith("cannot delete old events of anvil-job|c in " + database.settings().url()),
        e.getMessage());
  }
}
