package dev.anvil.persistence;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real PostgreSQL server started from the binaries shipped as a Maven artifact, with its data
 * under a folder of the cluster (so it survives restarts of the cluster). Node JVMs reach it over
 * TCP on loopback, so killing a node never takes the journal with it.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private final EmbeddedPostgres postgres;
  private final Path dataDirectory;

  private EmbeddedDatabase(EmbeddedPostgres postgres, Path dataDirectory) {
    this.postgres = postgres;
    this.dataDirectory = dataDirectory;
  }

  /** Starts PostgreSQL on a free port with its data in {@code dataDirectory} (created if new). */
  public static EmbeddedDatabase start(Path dataDirectory) {
    return start(dataDirectory, 0);
  }

  /**
   * Starts PostgreSQL on {@code port} (0: a free one) with its data in {@code dataDirectory};
   * started again on the same folder and port after {@link #close()}, it is the same database.
   */
  public static EmbeddedDatabase start(Path dataDirectory, int port) {
    try {
      Files.createDirectories(dataDirectory);
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dataDirectory)
          .setCleanDataDirectory(false);
      if (port > 0) {
        builder.setPort(port);
      }
      EmbeddedPostgres pg = builder.start();
      return new EmbeddedDatabase(pg, dataDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + dataDirectory
          + ": " + e.getMessage(), e);
    }
  }

  /**
   * Starts PostgreSQL for a cluster that spans hosts: it listens on {@code host} (and loopback)
   * at {@code port}, and other hosts must log in as {@code postgres} with {@code password}
   * (SCRAM); this host's loopback keeps the embedded default (trust). The data stays in
   * {@code dataDirectory} across restarts.
   */
  public static EmbeddedDatabase startShared(Path dataDirectory, String host, int port,
      String password) {
    if (password == null || password.isEmpty()) {
      throw new IllegalArgumentException("a database other hosts reach needs a password"
          + " (ANVIL_DB_PASSWORD)");
    }
    try {
      Files.createDirectories(dataDirectory);
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setDataDirectory(dataDirectory)
          .setCleanDataDirectory(false)
          .setPort(port)
          .setServerConfig("listen_addresses", host.equals("127.0.0.1") ? host
              : host + ",127.0.0.1")
          .setServerConfig("password_encryption", "scram-sha-256")
          .start();
      EmbeddedDatabase db = new EmbeddedDatabase(pg, dataDirectory);
      db.requirePasswordFromOtherHosts(password);
      return db;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + dataDirectory
          + " on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  private void requirePasswordFromOtherHosts(String password) throws IOException {
    Path hba = dataDirectory.resolve("pg_hba.conf");
    String rule = "host all all all scram-sha-256  # anvil: other hosts log in with a password";
    if (!Files.readString(hba).contains(rule)) {
      Files.writeString(hba, "\n" + rule + "\n", java.nio.file.StandardOpenOption.APPEND);
    }
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl(), user(), "");
        java.sql.Statement s = c.createStatement()) {
      s.execute("ALTER USER postgres PASSWORD '" + password.replace("'", "''") + "'");
      s.execute("SELECT pg_reload_conf()");
    } catch (java.sql.SQLException e) {
      throw new IOException("cannot set the database password: " + e.getMessage(), e);
    }
  }

  public String jdbcUrl() {
    return postgres.getJdbcUrl("postgres", "postgres").replace("localhost", "127.0.0.1");
  }

  public String user() {
    return "postgres";
  }

  public int port() {
    return postgres.getPort();
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stop the embedded PostgreSQL: " + e.getMessage(), e);
    }
  }
}
