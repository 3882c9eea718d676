package dev.anvil.runtime.launcher;

import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.EmbeddedDatabase;
import dev.anvil.persistence.JournalSchema;
import java.nio.file.Path;

/**
 * The journal database of a local cluster: an embedded PostgreSQL the launcher started in its data
 * folder (a test may stop and start it again, as an outage), or an external one it only uses. Its
 * own monitor orders stop, start and close: it shares no state with the node JVMs ({@link
 * NodeJvms}), and neither lock is taken while holding the other. Once closed, it does not start
 * again.
 */
final class LocalDatabase {
  private final DatabaseSettings settings;

  /** Null when the database is external. */
  private EmbeddedDatabase embedded;

  private boolean running = true;
  private boolean closed;

  private LocalDatabase(DatabaseSettings settings, EmbeddedDatabase embedded) {
    this.settings = settings;
    this.embedded = embedded;
  }

  /**
   * Uses {@code external}, or (null) starts an embedded database in {@code folder}; checks that it
   * answers and creates the journal's tables if missing.
   */
  static LocalDatabase open(Path folder, DatabaseSettings external) {
    EmbeddedDatabase embedded = external == null ? EmbeddedDatabase.start(folder) : null;
    DatabaseSettings db = external == null ? embedded.settings(true) : external;
    try {
      db.check();
      JournalSchema.createIfMissing(db);
    } catch (RuntimeException e) {
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
    return new LocalDatabase(db, embedded);
  }

  DatabaseSettings settings() {
    return settings;
  }

  /** Stops the embedded database, as an outage would. */
  synchronized void stop() {
    requireEmbedded();
    if (running) {
      running = false;
      embedded.close();
    }
  }

  /** Starts the embedded database again, on the same port and data. */
  synchronized void start() {
    requireEmbedded();
    if (closed) {
      throw new IllegalStateException("the local cluster is closed: its database stays stopped");
    }
    if (!running) {
      embedded = EmbeddedDatabase.start(embedded.dataDirectory(), embedded.port());
      running = true;
    }
  }

  /** Stops the embedded database for good (an external one is left alone). */
  synchronized void close() {
    closed = true;
    if (embedded != null && running) {
      running = false;
      embedded.close();
    }
  }

  private void requireEmbedded() {
    if (embedded == null) {
      throw new IllegalStateException("the cluster uses an external database");
    }
  }
}
