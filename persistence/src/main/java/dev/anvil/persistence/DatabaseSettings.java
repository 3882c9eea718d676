package dev.anvil.persistence;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** {@code anvil.persistence}: where the journal lives. {@link #toString()} hides the password. */
public record DatabaseSettings(String url, String user, String password, boolean createSchema) {

  public static DatabaseSettings from(Config config) {
    Config c = config.getConfig("anvil.persistence");
    String url = c.getString("url");
    if (!url.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException(
          "anvil.persistence.url = \""
              + url
              + "\": must be a"
              + " PostgreSQL JDBC URL, jdbc:postgresql://HOST:PORT/DATABASE");
    }
    return new DatabaseSettings(
        url, c.getString("user"), c.getString("password"), c.getBoolean("create-schema"));
  }

  /** Connects, or fails with the URL and user in the message (never the password). */
  public Connection connect() {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("connectTimeout", "5");
    try {
      return DriverManager.getConnection(url, p);
    } catch (SQLException e) {
      throw new DatabaseException(
          "cannot reach the journal database at "
              + url
              + " as user "
              + user
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** Throws {@link DatabaseException} when the database does not answer. */
  public void check() {
    try (Connection c = connect()) {
      c.isValid(5);
    } catch (SQLException e) {
      throw new DatabaseException(
          "cannot reach the journal database at " + url + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "DatabaseSettings[url=" + url + ", user=" + user + ", password=***]";
  }
}
