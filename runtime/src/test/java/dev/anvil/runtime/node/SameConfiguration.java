package dev.anvil.runtime.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.anvil.persistence.DatabaseSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Compares the configuration a node JVM reads from its {@code -D} options with the one its {@link
 * NodeSettings} give, for the tests of the builder and of the launcher's command lines.
 */
public final class SameConfiguration {
  private SameConfiguration() {}

  /** {@code -Dkey=value} options as a JVM started with them has its system properties. */
  public static Config asSystemProperties(List<String> options) {
    Properties properties = new Properties();
    for (String option : options) {
      if (option.startsWith("-D")) {
        int eq = option.indexOf('=');
        properties.setProperty(option.substring(2, eq), option.substring(eq + 1));
      }
    }
    return ConfigFactory.parseProperties(properties);
  }

  /** Both configurations agree on every key {@code settings} sets, and on what derives from it. */
  public static void assertSameConfiguration(
      NodeSettings.Builder settings, Config expected, Config actual) {
    List<String> keys = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : settings.build().entrySet()) {
      String key = e.getKey();
      keys.add(key);
      if (e.getValue().valueType() == ConfigValueType.LIST) {
        assertEquals(expected.getStringList(key), actual.getStringList(key), key);
      } else if (e.getValue().valueType() == ConfigValueType.BOOLEAN) {
        assertEquals(expected.getBoolean(key), actual.getBoolean(key), key);
      } else {
        assertEquals(expected.getString(key), actual.getString(key), key);
      }
    }
    assertTrue(keys.size() >= 12, "the settings cover the node's keys: " + keys);
    assertEquals(
        expected.getInt("anvil.worker.compute-dispatcher.thread-pool-executor.fixed-pool-size"),
        actual.getInt("anvil.worker.compute-dispatcher.thread-pool-executor.fixed-pool-size"));
    assertEquals(DatabaseSettings.from(expected), DatabaseSettings.from(actual));
    assertEquals(
        expected.getString("pekko.remote.artery.transport"),
        actual.getString("pekko.remote.artery.transport"),
        "TLS turned on alike");
  }
}
