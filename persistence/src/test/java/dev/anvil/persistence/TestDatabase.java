package dev.anvil.persistence;

import dev.anvil.core.io.Directories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh database for each test class: register with {@code @RegisterExtension static}.
 *
 * <p>By default an {@link EmbeddedDatabase} in a temporary folder. With the system property {@value
 * #URL} (and {@value #USER}, {@value #PASSWORD}) it is a new database {@code anvil_test_<random>}
 * on that external server instead, dropped after the class. Prints which.
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback {
  static final String URL = "anvil.test.db.url";
  static final String USER = "anvil.test.db.user";
  static final String PASSWORD = "anvil.test.db.password";
  private static final Pattern JDBC_URL =
      Pattern.compile("(jdbc:postgresql://[^/?]+/)([^?]*)(\\?.*)?");

  private DatabaseSettings settings;
  private EmbeddedDatabase embedded;
  private Path directory;
  private DatabaseSettings server;
  private String name;

  /** The class's database; valid from {@code @BeforeAll} on. */
  public DatabaseSettings settings() {
    if (settings == null) {
      throw new IllegalStateException(
          "no database yet: register TestDatabase with" + " @RegisterExtension on a static field");
    }
    return settings;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    String url = System.getProperty(URL, "").strip();
    String where;
    if (url.isEmpty()) {
      directory = Files.createTempDirectory("anvil-test-pg-");
      embedded = EmbeddedDatabase.start(directory);
      settings = embedded.settings(true);
      where = "embedded PostgreSQL in " + directory;
    } else {
      server =
          new DatabaseSettings(
              url, System.getProperty(USER, "postgres"), System.getProperty(PASSWORD, ""), true);
      String fresh = "anvil_test_" + HexFormat.of().formatHex(randomBytes(6));
      String freshUrl = withDatabase(url, fresh);
      execute(server, "CREATE DATABASE " + fresh);
      name = fresh;
      settings = new DatabaseSettings(freshUrl, server.user(), server.password(), true);
      where = "external PostgreSQL (" + URL + "), new database " + name;
    }
    System.out.println(
        "[TestDatabase] "
            + context.getDisplayName()
            + ": "
            + where
            + ", "
            + settings.url()
            + ", "
            + version(settings));
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    settings = null;
    if (embedded != null) {
      embedded.close();
      embedded = null;
    }
    if (directory != null) {
      Directories.deleteTree(directory);
      directory = null;
    }
    if (name != null) {
      execute(server, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      name = null;
    }
  }

  static String withDatabase(String url, String database) {
    Matcher m = JDBC_URL.matcher(url);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          URL + " = " + url + ": expected" + " jdbc:postgresql://HOST:PORT/DATABASE");
    }
    return m.group(1) + database + (m.group(3) == null ? "" : m.group(3));
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }

  private static void execute(DatabaseSettings db, String sql) {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new DatabaseException(sql + " failed on " + db.url() + ": " + e.getMessage(), e);
    }
  }

  private static String version(DatabaseSettings db) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SHOW server_version")) {
      r.next();
      return "server " + r.getString(1);
    }
  }
}
