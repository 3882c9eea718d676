package dev.anvil.runtime.node;

import static dev.anvil.runtime.node.SameConfiguration.asSystemProperties;
import static dev.anvil.runtime.node.SameConfiguration.assertSameConfiguration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.tls.ClusterCa;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed builder sets the keys the node reads, and refuses a bad value naming it; its JVM
 * options give the configuration its {@code build()} gives.
 */
class NodeSettingsTest {
  private static final NodeSettings.Builder BASE =
      NodeSettings.builder().database("jdbc:postgresql://db:5432/anvil", "anvil", "secret");

  @Test
  void everySettingLandsOnTheKeyTheNodeReads() {
    Config config =
        AnvilConfig.load(
            BASE.host("10.0.0.5")
                .port(25520)
                .seeds(List.of("10.0.0.4:25520", "[::1]:25521"))
                .slots(3)
                .http("0.0.0.0", 8080)
                .httpToken("a-token-of-16-chars-or-more")
                .allowModelClasses(String.class)
                .allowDataRoots(Path.of("/data"))
                .createSchema(false)
                .build());
    assertEquals("10.0.0.5", config.getString("pekko.remote.artery.canonical.hostname"));
    assertEquals(25520, config.getInt("pekko.remote.artery.canonical.port"));
    assertEquals(
        List.of("pekko://anvil@10.0.0.4:25520", "pekko://anvil@[::1]:25521"),
        config.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(3, config.getInt("anvil.worker.slots"));
    assertEquals(
        3, config.getInt("anvil.worker.compute-dispatcher.thread-pool-executor.fixed-pool-size"));
    assertEquals("0.0.0.0", config.getString("anvil.http.host"));
    assertEquals(8080, config.getInt("anvil.http.port"));
    assertEquals("a-token-of-16-chars-or-more", config.getString("anvil.http.token"));
    // (AnvilConfig.load reads the TLS folder's files: checked on the raw settings)
    assertEquals(
        "/etc/anvil/tls",
        BASE.tls(Path.of("/etc/anvil/tls")).build().getString("anvil.tls.directory"));
    assertEquals(List.of("java.lang.String"), config.getStringList("anvil.models.allowed-classes"));
    assertEquals(List.of("/data"), config.getStringList("anvil.data.allowed-roots"));
    assertEquals(
        new DatabaseSettings("jdbc:postgresql://db:5432/anvil", "anvil", "secret", false),
        DatabaseSettings.from(config));
  }

  @Test
  void unsetSettingsKeepTheirDefaults() {
    Config config = AnvilConfig.load(BASE.httpOff().build());
    assertFalse(config.getBoolean("anvil.http.enabled"));
    assertEquals(List.of(), config.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(2, config.getInt("anvil.worker.slots"));
    assertEquals("127.0.0.1", config.getString("pekko.remote.artery.canonical.hostname"));
  }

  @Test
  void theBuilderIsImmutable() {
    NodeSettings.Builder four = BASE.slots(4);
    BASE.slots(1);
    assertEquals(4, four.build().getInt("anvil.worker.slots"));
    assertFalse(BASE.build().hasPath("anvil.worker.slots"));
  }

  @Test
  void aBadValueIsRefusedNamingSettingKeyValueAndWhatIsAllowed() {
    assertEquals(
        "NodeSettings port (pekko.remote.artery.canonical.port) = 70000: must be 0"
            + " (any free port) to 65535",
        assertThrows(IllegalArgumentException.class, () -> BASE.port(70000)).getMessage());
    assertEquals(
        "NodeSettings slots (anvil.worker.slots) = 0: must be 1 to 1024",
        assertThrows(IllegalArgumentException.class, () -> BASE.slots(0)).getMessage());
    assertEquals(
        "NodeSettings seeds[1] (pekko.cluster.seed-nodes) = pekko://anvil@h:1: must"
            + " be HOST:PORT of a member's cluster port, e.g. 10.0.0.4:25520",
        assertThrows(
                IllegalArgumentException.class,
                () -> BASE.seeds(List.of("h:2", "pekko://anvil@h:1")))
            .getMessage());
    assertEquals(
        "NodeSettings database url (anvil.persistence.url) = mysql://db: must be a"
            + " PostgreSQL JDBC URL, jdbc:postgresql://HOST:PORT/DATABASE",
        assertThrows(
                IllegalArgumentException.class,
                () -> NodeSettings.builder().database("mysql://db", "u", "p"))
            .getMessage());
    assertEquals(
        "NodeSettings http host (anvil.http.host) = \" \": must be an address to bind,"
            + " e.g. 127.0.0.1",
        assertThrows(IllegalArgumentException.class, () -> BASE.http(" ", 80)).getMessage());
    assertEquals(
        "NodeSettings data roots[0] (anvil.data.allowed-roots) = data: must be an"
            + " absolute folder",
        assertThrows(IllegalArgumentException.class, () -> BASE.allowDataRoots(Path.of("data")))
            .getMessage());
    assertEquals(
        "NodeSettings: database(url, user, password) is required"
            + " (anvil.persistence.url): the node journals every job there",
        assertThrows(IllegalStateException.class, () -> NodeSettings.builder().slots(2).build())
            .getMessage());
  }

  @Test
  void jvmOptionsGiveTheConfigurationBuildGives(@TempDir Path dir) {
    NodeSettings.Builder settings =
        BASE.host("10.0.0.5")
            .port(25520)
            .seeds(List.of("10.0.0.4:25520", "[::1]:25521"))
            .slots(3)
            .http("0.0.0.0", 8080)
            .httpToken("a-token-of-16-chars-or-more")
            .https(true)
            .insecureTransport(false)
            .tls(credentials(dir.resolve("tls")))
            .allowModelClasses(String.class, Integer.class)
            .allowDataRoots(Path.of("/data"))
            .createSchema(false);
    NodeSettings.Builder launched = settings.database("jdbc:postgresql://db:5432/anvil", "anvil");
    assertEquals(
        List.of(
            "-Danvil.data.allowed-roots.0=/data",
            "-Danvil.http.enabled=true",
            "-Danvil.http.host=0.0.0.0"),
        launched.jvmOptions().subList(0, 3),
        "sorted by key");
    assertSameConfiguration(
        launched,
        AnvilConfig.load(launched.build()),
        AnvilConfig.load(asSystemProperties(launched.jvmOptions())));
  }

  @Test
  void jvmOptionsRefuseWhatNoOptionCanCarry() {
    assertEquals(
        "NodeSettings database password (anvil.persistence.password): must be \"\" for"
            + " a node JVM, which reads ANVIL_DB_PASSWORD (a password in its command line would show"
            + " in ps)",
        assertThrows(IllegalStateException.class, () -> BASE.jvmOptions()).getMessage());
    assertEquals(
        "NodeSettings anvil.data.allowed-roots = []: an empty list has no JVM options;"
            + " leave the setting unset instead",
        assertThrows(
                IllegalStateException.class,
                () -> NodeSettings.builder().allowDataRoots().jvmOptions())
            .getMessage());
  }

  @Test
  void setsKeyOfMatchesTheKeyAndItsListElementsOnly() {
    NodeSettings.Builder roots = NodeSettings.builder().allowDataRoots(Path.of("/d"));
    assertTrue(roots.setsKeyOf("-Danvil.data.allowed-roots.3=/x"));
    assertTrue(roots.setsKeyOf("-Danvil.data.allowed-roots=[]"));
    assertFalse(roots.setsKeyOf("-Danvil.data.allowed-roots-extra=1"));
    assertFalse(roots.setsKeyOf("-Danvil.data.other=1"));
  }

  /** A new CA and one member certificate for 127.0.0.1, written to {@code folder}. */
  private static Path credentials(Path folder) {
    ClusterCa.create("test", Duration.ofDays(1))
        .issue("member", List.of("127.0.0.1"), List.of("localhost"), Duration.ofDays(1))
        .save(folder);
    return folder;
  }
}
