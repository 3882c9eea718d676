package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class JournalSchemaTest {
  @RegisterExtension static final TestDatabase database = new TestDatabase();

  private static List<String> tables() throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = database.settings().connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT table_name FROM information_schema.tables"
                    + " WHERE table_schema = 'public' ORDER BY table_name")) {
      while (r.next()) {
        names.add(r.getString(1));
      }
    }
    return names;
  }

  private static long count(String sql) throws SQLException {
    try (Connection c = database.settings().connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  @Test
  void createsTheJournalAndCheckpointTablesAndMayRunAgain() throws SQLException {
    assertEquals(List.of(), tables(), "a fresh database");
    JournalSchema.createIfMissing(database.settings());
    List<String> first = tables();
    String journal =
        JournalTable.name(
            ConfigFactory.load(ConfigFactory.parseResources("anvil-persistence.conf")));
    assertEquals(
        List.of(
            "anvil_checkpoint",
            "anvil_round_gradient",
            "durable_state",
            journal,
            "event_tag",
            "snapshot"),
        first,
        "the journal table is the one a node's" + " config names");
    assertEquals(
        1,
        count(
            "SELECT count(*) FROM pg_indexes WHERE tablename = '"
                + journal
                + "' AND indexname = 'event_journal_ordering_idx'"));
    assertEquals(
        1,
        count(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = '"
                + CheckpointStore.TABLE
                + "'::regclass AND attname = 'data' AND attstorage = 'e'"),
        "checkpoint bytes are stored without trying to compress them");

    try (Connection c = database.settings().connect();
        PreparedStatement p =
            c.prepareStatement(
                "INSERT INTO "
                    + CheckpointStore.TABLE
                    + " (job_id, round, sha256, size, data)"
                    + " VALUES ('j', 1, 'x', 1, '\\x00'::bytea)")) {
      p.executeUpdate();
    }
    JournalSchema.createIfMissing(database.settings());
    assertEquals(first, tables());
    assertEquals(
        1,
        count("SELECT count(*) FROM " + CheckpointStore.TABLE),
        "running it again keeps the rows");
  }

  @Test
  void everyCreateIndexGetsIfNotExists() {
    assertEquals(
        "CREATE UNIQUE INDEX IF NOT EXISTS i ON t(a)",
        JournalSchema.idempotent("CREATE UNIQUE INDEX i ON t(a)"));
    assertEquals(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS i on t (a)",
        JournalSchema.idempotent("create index concurrently i on t (a)"));
    assertEquals(
        "CREATE INDEX IF NOT EXISTS i ON t(a)",
        JournalSchema.idempotent("CREATE  INDEX i ON t(a)"));
    String done = "CREATE INDEX IF NOT EXISTS i ON t(a)";
    assertEquals(done, JournalSchema.idempotent(done));
    assertEquals(
        "CREATE TABLE IF NOT EXISTS t(a INT)",
        JournalSchema.idempotent("CREATE TABLE IF NOT EXISTS t(a INT)"));
  }
}
