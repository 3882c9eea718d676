package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class DatabaseSettingsTest {
  private static final String PASSWORD = "pw-Ur4nium-77";

  /** A port on 127.0.0.1 that nothing listens on. */
  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static Config config(String persistence) {
    return ConfigFactory.parseString("anvil.persistence { " + persistence + " }")
        .withFallback(ConfigFactory.defaultReference());
  }

  /** The exception and all its causes, with their stack traces. */
  private static String everything(Throwable t) {
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    return out.toString();
  }

  @Test
  void anUnreachableDatabaseIsNamedWithItsUserButNotThePassword() throws IOException {
    String url = "jdbc:postgresql://127.0.0.1:" + closedPort() + "/journal";
    DatabaseSettings db = new DatabaseSettings(url, "anvil-ops", PASSWORD, true);

    DatabaseException e = assertThrows(DatabaseException.class, db::connect);
    assertTrue(e.getMessage().contains(url), e.getMessage());
    assertTrue(e.getMessage().contains("anvil-ops"), e.getMessage());
    assertFalse(everything(e).contains(PASSWORD), everything(e));

    DatabaseException checked = assertThrows(DatabaseException.class, db::check);
    assertTrue(checked.getMessage().contains(url), checked.getMessage());
    assertFalse(everything(checked).contains(PASSWORD), everything(checked));
  }

  @Test
  void aUrlThatIsNotPostgresIsRefusedByItsKey() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DatabaseSettings.from(config("url = \"jdbc:mysql://127.0.0.1:3306/journal\"")));
    assertTrue(e.getMessage().contains("anvil.persistence.url"), e.getMessage());
    assertTrue(e.getMessage().contains("jdbc:mysql://127.0.0.1:3306/journal"), e.getMessage());

    IllegalArgumentException unset =
        assertThrows(IllegalArgumentException.class, () -> DatabaseSettings.from(config("")));
    assertTrue(unset.getMessage().contains("anvil.persistence.url"), unset.getMessage());
  }

  @Test
  void settingsAreReadFromConfig() {
    DatabaseSettings db =
        DatabaseSettings.from(
            config(
                "url = \"jdbc:postgresql://db:5432/j\","
                    + " user = ops, password = \""
                    + PASSWORD
                    + "\", create-schema = off"));
    assertEquals(new DatabaseSettings("jdbc:postgresql://db:5432/j", "ops", PASSWORD, false), db);
  }

  @Test
  void toStringHidesThePassword() {
    String s =
        new DatabaseSettings("jdbc:postgresql://db:5432/j", "ops", PASSWORD, true).toString();
    assertFalse(s.contains(PASSWORD), s);
    assertTrue(s.contains("jdbc:postgresql://db:5432/j") && s.contains("ops"), s);
  }
}
