package dev.anvil.persistence;

import dev.anvil.core.io.OwnerOnlyFiles;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * A real PostgreSQL server started from the binaries shipped as a Maven artifact, with its data
 * under a folder of the cluster (so it survives restarts of the cluster). Node JVMs reach it over
 * TCP on loopback, so killing a node never takes the journal with it.
 *
 * <p>Nothing trusts a connection for where it comes from: every login is SCRAM with a password, on
 * loopback too (any local user can reach loopback). The superuser {@code postgres} gets a generated
 * password that never leaves this process and the data folder; Anvil's nodes log in as {@code
 * anvil}, a role that owns database {@code anvil} and nothing else (no superuser, so no {@code COPY
 * ... TO PROGRAM}). Passwords live in the data folder, mode 0600 (the folder is 0700).
 *
 * <p>The server is a process of its own, so it would outlive a host process killed with SIGKILL
 * (which runs no shutdown hook). A watchdog (a shell reading a pipe from this process) stops it
 * when that pipe closes, even then; and should the watchdog die too, the next start on the same
 * folder stops the server left running there ({@link StalePostmaster}) before starting afresh.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  static final String ROLE = "anvil";
  static final String DATABASE = "anvil";
  private static final String SUPERUSER_FILE = "anvil-superuser.password";
  private static final String ROLE_FILE = "anvil-role.password";
  private static final String HBA_MARK = "# anvil:";

  /** How long a server left running by a killed process gets for its fast shutdown. */
  private static final Duration STALE_SERVER_STOP = Duration.ofSeconds(30);

  private final EmbeddedPostgres postgres;
  private final Process watchdog;
  private final Path dataDirectory;
  private final String password;

  private EmbeddedDatabase(
      EmbeddedPostgres postgres, Process watchdog, Path dataDirectory, String password) {
    this.postgres = postgres;
    this.watchdog = watchdog;
    this.dataDirectory = dataDirectory;
    this.password = password;
  }

  /** Starts PostgreSQL on a free port with its data in {@code dataDirectory} (created if new). */
  public static EmbeddedDatabase start(Path dataDirectory) {
    return start(dataDirectory, 0);
  }

  /**
   * Starts PostgreSQL on {@code port} (0: a free one), on loopback only, with its data in {@code
   * dataDirectory}; started again on the same folder and port after {@link #close()}, it is the
   * same database. Role {@code anvil}'s password is generated once and kept.
   */
  public static EmbeddedDatabase start(Path dataDirectory, int port) {
    return start(dataDirectory, "127.0.0.1", port, null);
  }

  /**
   * Starts PostgreSQL for a cluster that spans hosts: it listens on {@code host} (and loopback) at
   * {@code port}; other hosts log in as {@code anvil} to database {@code anvil} with {@code
   * password} (the superuser only ever from this host). The data stays in {@code dataDirectory}
   * across restarts.
   */
  public static EmbeddedDatabase startShared(
      Path dataDirectory, String host, int port, String password) {
    if (password == null || password.isEmpty()) {
      throw new IllegalArgumentException(
          "a database other hosts reach needs a password" + " (ANVIL_DB_PASSWORD)");
    }
    return start(dataDirectory, host, port, password);
  }

  private static EmbeddedDatabase start(
      Path dataDirectory, String host, int port, String rolePassword) {
    boolean shared = !host.equals("127.0.0.1");
    try {
      Files.createDirectories(dataDirectory);
      StalePostmaster.stopIfRunning(dataDirectory, STALE_SERVER_STOP);
      String superuser = OwnerOnlyFiles.read(dataDirectory.resolve(SUPERUSER_FILE));
      EmbeddedPostgres.Builder builder =
          EmbeddedPostgres.builder()
              .setDataDirectory(dataDirectory.toAbsolutePath())
              .setCleanDataDirectory(false)
              .setServerConfig(
                  "listen_addresses",
                  !shared
                      ? "127.0.0.1"
                      : host.equals("0.0.0.0") || host.equals("*") ? "*" : host + ",127.0.0.1")
              .setServerConfig("password_encryption", "scram-sha-256");
      if (superuser != null) {
        builder.setConnectConfig("password", superuser);
      }
      if (port > 0) {
        builder.setPort(port);
      }
      EmbeddedPostgres pg = builder.start();
      Process watchdog = null;
      try {
        watchdog = watchdog(dataDirectory);
        String role = secure(pg, dataDirectory, superuser, rolePassword, shared);
        return new EmbeddedDatabase(pg, watchdog, dataDirectory, role);
      } catch (IOException | SQLException | RuntimeException e) {
        pg.close();
        if (watchdog != null) {
          watchdog.destroy();
        }
        throw e;
      }
    } catch (IOException | SQLException e) {
      throw new UncheckedIOException(
          "cannot start the embedded PostgreSQL in "
              + dataDirectory
              + (shared ? " on " + host + ":" + port : "")
              + ": "
              + e.getMessage(),
          e instanceof IOException io ? io : new IOException(e));
    }
  }

  /**
   * A shell that waits for its standard input (a pipe from this process) to close, which happens
   * when this process exits or is killed, and then stops the server (fast shutdown).
   */
  private static Process watchdog(Path dataDirectory) throws IOException {
    String pidFile =
        dataDirectory.toAbsolutePath().resolve("postmaster.pid").toString().replace("'", "'\\''");
    return new ProcessBuilder(
            "sh",
            "-c",
            "while read -r _; do :; done;"
                + " kill -INT \"$(head -n 1 '"
                + pidFile
                + "' 2>/dev/null)\" 2>/dev/null; exit 0")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  /**
   * Gives the superuser a password (first start), makes role and database {@code anvil}, and
   * requires passwords of every connection; returns the role's password.
   */
  private static String secure(
      EmbeddedPostgres pg, Path dir, String superuser, String rolePassword, boolean shared)
      throws IOException, SQLException {
    Properties login = new Properties();
    login.setProperty("user", "postgres");
    login.setProperty("password", superuser == null ? "" : superuser);
    String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
    try (Connection c = DriverManager.getConnection(url, login);
        Statement s = c.createStatement()) {
      if (superuser == null) {
        String generated = OwnerOnlyFiles.newSecret(24);
        s.execute("ALTER ROLE postgres PASSWORD " + literal(generated));
        OwnerOnlyFiles.write(dir.resolve(SUPERUSER_FILE), generated);
      }
      String role =
          rolePassword != null ? rolePassword : OwnerOnlyFiles.read(dir.resolve(ROLE_FILE));
      if (role == null) {
        role = OwnerOnlyFiles.newSecret(24);
      }
      boolean exists;
      try (ResultSet r = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + ROLE + "'")) {
        exists = r.next();
      }
      s.execute(
          (exists ? "ALTER ROLE " : "CREATE ROLE ")
              + ROLE
              + " LOGIN NOSUPERUSER"
              + " NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD "
              + literal(role));
      if (rolePassword == null) {
        OwnerOnlyFiles.write(dir.resolve(ROLE_FILE), role);
      }
      try (ResultSet r =
          s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
        if (!r.next()) {
          s.execute("CREATE DATABASE " + DATABASE + " OWNER " + ROLE);
        }
      }
      requirePasswords(dir.resolve("pg_hba.conf"), shared);
      try (ResultSet r = s.executeQuery("SELECT pg_reload_conf()")) {
        r.next();
      }
      return role;
    }
  }

  /**
   * pg_hba.conf: SCRAM for every connection (no trust, on loopback neither); other hosts only as
   * {@code anvil} to database {@code anvil}, and only when shared.
   */
  private static void requirePasswords(Path hba, boolean shared) throws IOException {
    StringBuilder rules =
        new StringBuilder(
            HBA_MARK
                + " every login needs its password (SCRAM)\n"
                + "local all all scram-sha-256\n"
                + "host all all 127.0.0.1/32 scram-sha-256\n"
                + "host all all ::1/128 scram-sha-256\n");
    if (shared) {
      rules.append(
          "host "
              + DATABASE
              + " "
              + ROLE
              + " 0.0.0.0/0 scram-sha-256\n"
              + "host "
              + DATABASE
              + " "
              + ROLE
              + " ::/0 scram-sha-256\n");
    }
    Files.writeString(hba, rules.toString());
  }

  private static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /** The URL of database {@code anvil} on loopback. */
  public String jdbcUrl() {
    return jdbcUrl("127.0.0.1");
  }

  /** The URL of database {@code anvil} for nodes that reach this host at {@code host}. */
  public String jdbcUrl(String host) {
    return "jdbc:postgresql://" + host + ":" + postgres.getPort() + "/" + DATABASE;
  }

  /** The database nodes use: {@code anvil}, owned by {@link #user()}. */
  public String database() {
    return DATABASE;
  }

  /** The role nodes log in as: {@code anvil}, not a superuser. */
  public String user() {
    return ROLE;
  }

  /** The role's password (give it to nodes as ANVIL_DB_PASSWORD, never on a command line). */
  public String password() {
    return password;
  }

  /** How a node reaches this database; {@code createSchema}: whether it creates the tables. */
  public DatabaseSettings settings(boolean createSchema) {
    return new DatabaseSettings(jdbcUrl(), user(), password, createSchema);
  }

  public int port() {
    return postgres.getPort();
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  /** Stops the server (fast shutdown), then its watchdog. */
  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stop the embedded PostgreSQL: " + e.getMessage(), e);
    } finally {
      watchdog.destroy();
    }
  }
}
