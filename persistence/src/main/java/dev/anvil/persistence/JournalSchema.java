package dev.anvil.persistence;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Creates the journal tables with the DDL that pekko-persistence-jdbc ships in its jar, made
 * idempotent (every CREATE gets IF NOT EXISTS), so every node may run it at start-up; and Anvil's
 * own checkpoint table ({@link CheckpointStore}).
 */
public final class JournalSchema {
  private static final String DDL = "/schema/postgres/postgres-create-schema.sql";

  /** The advisory lock key that serializes schema creation ("ANVL"). */
  private static final long LOCK = 0x414E564CL;

  private JournalSchema() {}

  public static void createIfMissing(DatabaseSettings db) {
    String ddl = readDdl();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      // Nodes starting together on a new database would race on the catalog: one at a time.
      s.execute("SELECT pg_advisory_lock(" + LOCK + ")");
      for (String statement : ddl.split(";")) {
        String sql = idempotent(statement.strip());
        if (!sql.isEmpty()) {
          s.execute(sql);
        }
      }
      CheckpointStore.createIfMissing(c);
      s.execute("SELECT pg_advisory_unlock(" + LOCK + ")");
    } catch (SQLException e) {
      throw new DatabaseException(
          "cannot create the journal schema in " + db.url() + ": " + e.getMessage(), e);
    }
  }

  static String idempotent(String sql) {
    return sql.replaceAll(
            "(?i)CREATE\\s+UNIQUE\\s+INDEX\\s+(?!IF NOT EXISTS)",
            "CREATE UNIQUE INDEX IF NOT EXISTS ")
        .replaceAll(
            "(?i)CREATE\\s+INDEX\\s+CONCURRENTLY\\s+(?!IF NOT EXISTS)",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ")
        .replaceAll(
            "(?i)CREATE\\s+INDEX\\s+(?!CONCURRENTLY|IF NOT EXISTS)", "CREATE INDEX IF NOT EXISTS ");
  }

  private static String readDdl() {
    try (InputStream in = JournalSchema.class.getResourceAsStream(DDL)) {
      if (in == null) {
        throw new IllegalStateException(
            "pekko-persistence-jdbc's " + DDL + " is not on the" + " classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + DDL, e);
    }
  }
}
