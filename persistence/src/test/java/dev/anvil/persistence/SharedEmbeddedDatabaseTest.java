package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded database trusts no connection for where it comes from: every login needs its
 * password (on loopback too), nodes log in as {@code anvil}, which is no superuser and cannot run
 * programs on the database host, and the superuser's password never leaves the data folder. The
 * database one node hosts for a multi-host cluster ({@code anvil node --host-db}) listens on every
 * address; it is reached here through 127.0.0.1 only.
 */
class SharedEmbeddedDatabaseTest {
  @TempDir Path dir;

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Connection login(String url, String user, String password) throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  @Test
  void everyLoginNeedsItsPasswordAndNodesAreNoSuperusers() throws Exception {
    int port = freePort();
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/anvil";
    try (EmbeddedDatabase db = EmbeddedDatabase.startShared(dir, "0.0.0.0", port, "s3cret")) {
      assertEquals(url, db.jdbcUrl());
      assertEquals("anvil", db.user());
      try (Connection c = login(url, "anvil", "s3cret");
          ResultSet r =
              c.createStatement()
                  .executeQuery(
                      "SELECT rolsuper, rolcreaterole,"
                          + " current_setting('listen_addresses') FROM pg_roles WHERE rolname = current_user")) {
        r.next();
        assertFalse(r.getBoolean(1), "anvil is a superuser");
        assertFalse(r.getBoolean(2), "anvil creates roles");
        assertEquals("*", r.getString(3));
        SQLException program =
            assertThrows(
                SQLException.class,
                () ->
                    c.createStatement()
                        .execute(
                            "COPY (SELECT 1) TO PROGRAM 'touch " + dir.resolve("pwned") + "'"));
        assertTrue(
            program.getMessage().contains("permission denied")
                || program.getMessage().contains("must be superuser")
                || program.getMessage().contains("pg_execute_server_program"),
            program::getMessage);
        assertFalse(Files.exists(dir.resolve("pwned")));
      }
      for (String[] attempt :
          new String[][] {
            {"anvil", "wrong"}, {"anvil", ""}, {"postgres", ""}, {"postgres", "s3cret"}
          }) {
        SQLException refused =
            assertThrows(
                SQLException.class,
                () -> login(url.replace("/anvil", "/postgres"), attempt[0], attempt[1]).close(),
                attempt[0] + " with \"" + attempt[1] + "\"");
        assertTrue(
            refused.getMessage().contains("password authentication failed")
                || refused.getMessage().contains("the password is an empty string"),
            refused::getMessage);
      }
      DatabaseException e =
          assertThrows(
              DatabaseException.class,
              () -> new DatabaseSettings(url, "anvil", "wrong", true).check());
      assertFalse(e.getMessage().contains("wrong"), "the password is never shown");
      for (String secret : new String[] {"anvil-superuser.password"}) {
        assertEquals(
            "rw-------",
            PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(secret))));
      }
      try (Connection c = login(url, "anvil", "s3cret")) {
        c.createStatement().execute("CREATE TABLE kept (x int)");
      }
    }
    try (EmbeddedDatabase again = EmbeddedDatabase.startShared(dir, "0.0.0.0", port, "s3cret")) {
      assertEquals(port, again.port(), "restarted on the same data and port");
      try (Connection c = login(url, "anvil", "s3cret");
          ResultSet r = c.createStatement().executeQuery("SELECT count(*) FROM kept")) {
        r.next();
        assertEquals(0, r.getInt(1));
      }
    }
  }

  @Test
  void aLoopbackDatabaseGeneratesTheRolesPasswordAndKeepsIt() throws Exception {
    String first;
    int port;
    try (EmbeddedDatabase db = EmbeddedDatabase.start(dir)) {
      first = db.password();
      port = db.port();
      assertTrue(first.length() >= 24, "a generated password");
      db.settings(true).check();
      assertEquals(
          "rw-------",
          PosixFilePermissions.toString(
              Files.getPosixFilePermissions(dir.resolve("anvil-role.password"))));
      assertThrows(SQLException.class, () -> login(db.jdbcUrl(), "anvil", "").close());
    }
    try (EmbeddedDatabase again = EmbeddedDatabase.start(dir, port)) {
      assertEquals(first, again.password());
      again.settings(true).check();
    }
  }

  @Test
  void aSharedDatabaseWithoutAPasswordIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> EmbeddedDatabase.startShared(dir, "127.0.0.1", 5999, ""));
    assertTrue(e.getMessage().contains("ANVIL_DB_PASSWORD"), e.getMessage());
  }
}
