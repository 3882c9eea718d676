package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded database hosted by one node of a multi-host cluster ({@code anvil node
 * --host-db}): reached on the machine's network address with the password, refused without it.
 * Needs a non-loopback IPv4 address, which every CI and cluster machine has.
 */
class SharedEmbeddedDatabaseTest {
  @TempDir
  Path dir;

  private static String networkAddress() throws Exception {
    for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress a : Collections.list(n.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress() && n.isUp()) {
          return a.getHostAddress();
        }
      }
    }
    throw new AssertionError("this machine has no non-loopback IPv4 address to test with");
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void otherHostsNeedThePassword() throws Exception {
    String host = networkAddress();
    int port = freePort();
    String url = "jdbc:postgresql://" + host + ":" + port + "/postgres";
    try (EmbeddedDatabase db = EmbeddedDatabase.startShared(dir, host, port, "s3cret")) {
      try (Connection c = DriverManager.getConnection(url, "postgres", "s3cret");
          ResultSet r = c.createStatement().executeQuery("SELECT inet_server_addr()::text")) {
        r.next();
        assertTrue(r.getString(1).startsWith(host), r.getString(1));
      }
      SQLException refused = assertThrows(SQLException.class,
          () -> DriverManager.getConnection(url, "postgres", "wrong").close());
      assertTrue(refused.getMessage().contains("password authentication failed"),
          refused.getMessage());
      DatabaseException e = assertThrows(DatabaseException.class, () -> new DatabaseSettings(
          url, "postgres", "wrong", true).check());
      assertFalse(e.getMessage().contains("wrong"), "the password is never shown");
    }
    try (EmbeddedDatabase again = EmbeddedDatabase.startShared(dir, host, port, "s3cret")) {
      assertEquals(port, again.port(), "restarted on the same data and port");
      new DatabaseSettings(url, "postgres", "s3cret", true).check();
    }
  }

  @Test
  void aSharedDatabaseWithoutAPasswordIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EmbeddedDatabase.startShared(dir, "127.0.0.1", 5999, ""));
    assertTrue(e.getMessage().contains("ANVIL_DB_PASSWORD"), e.getMessage());
  }
}
