package dev.anvil.runtime.launcher;

import static dev.anvil.runtime.node.SameConfiguration.asSystemProperties;
import static dev.anvil.runtime.node.SameConfiguration.assertSameConfiguration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.node.AnvilConfig;
import dev.anvil.runtime.node.NodeSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node JVM of a local cluster, started with the command line the launcher builds, gets the
 * configuration {@code anvil node} starts a node with for the same settings.
 */
class NodeProcessesTest {
  /**
   * The command line a local cluster starts node 2 of 3 with, read as that JVM reads it, gives the
   * configuration {@code anvil node} builds for the same address, seeds, database, slots, HTTP API,
   * TLS folder and data folder (NodeCommand's options, as the builder calls they make), with the
   * schema left to the launcher.
   */
  @Test
  void aLocalClusterNodeGetsTheConfigurationAnvilNodeGivesForTheSameSettings(@TempDir Path dir)
      throws Exception {
    Path tls = LocalCluster.throwAwayCredentials(dir.resolve("tls"));
    Path data = Files.createDirectories(dir.resolve("data"));
    LocalClusterSettings cluster =
        LocalClusterSettings.of(3, 3, dir)
            .withCommonJvmOptions(List.of("-Danvil.checkpoint.directory=/cp"))
            .withTlsFolder(tls)
            .allowingDataIn(List.of(data))
            .withTlsFolder(tls)
            .allowingDataIn(List.of(data)); // given twice: replaced, not added
    List<NodePorts> ports =
        List.of(
            new NodePorts(20001, 20002), new NodePorts(20003, 20004), new NodePorts(20005, 20006));
    DatabaseSettings db =
        new DatabaseSettings("jdbc:postgresql://127.0.0.1:5432/anvil", "anvil", "secret", false);
    List<String> command =
        NodeProcesses.command(
            cluster,
            1,
            NodeProcesses.settings(cluster, db, ports.get(1), NodeProcesses.seeds(ports, 1, false)),
            dir.resolve("logback-node.xml"));
    NodeSettings.Builder anvilNode =
        NodeSettings.builder()
            .host("127.0.0.1")
            .port(20003)
            .seeds(List.of("127.0.0.1:20001", "127.0.0.1:20005"))
            .database("jdbc:postgresql://127.0.0.1:5432/anvil", "anvil")
            .slots(3)
            .http("127.0.0.1", 20004)
            .insecureTransport(false)
            .https(false)
            .tls(tls)
            .allowDataAlsoIn(List.of(data))
            .createSchema(false);
    Config launched = AnvilConfig.load(asSystemProperties(command));
    assertSameConfiguration(anvilNode, AnvilConfig.load(anvilNode.build()), launched);
    assertEquals("/cp", launched.getString("anvil.checkpoint.directory"));
    assertEquals(
        1,
        command.stream().filter(o -> o.startsWith("-Danvil.tls.directory=")).count(),
        "one TLS folder: " + command);
    assertTrue(
        command.stream().noneMatch(o -> o.contains("secret")),
        "the password is not in the command line (ps shows it): " + command);
  }
}
