package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.anvil.runtime.node.NodeSettings;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code anvil node}'s options become {@link NodeSettings} of the same values: the settings a local
 * cluster's node JVMs get too (NodeSettingsTest shows that both give one configuration).
 */
class NodeCommandTest {
  @TempDir Path dir;

  private NodeCommand parse(String... args) {
    NodeCommand command = new NodeCommand();
    new CommandLine(command).parseArgs(args);
    return command;
  }

  @Test
  void optionsBecomeTheNodeSettingsOfTheSameValues() {
    NodeCommand command =
        parse(
            "--host",
            "10.0.0.5",
            "--port",
            "25520",
            "--seed",
            "10.0.0.4:25520,10.0.0.6:25520",
            "--db",
            "jdbc:postgresql://db:5432/anvil",
            "--slots",
            "3",
            "--http-port",
            "8081",
            "--tls",
            dir.toString(),
            "--https",
            "--data-root",
            dir.toString());
    assertEquals(
        NodeSettings.builder()
            .host("10.0.0.5")
            .port(25520)
            .seeds(List.of("10.0.0.4:25520", "10.0.0.6:25520"))
            .database("jdbc:postgresql://db:5432/anvil", "anvil")
            .slots(3)
            .http("127.0.0.1", 8081)
            .insecureTransport(false)
            .https(true)
            .tls(dir)
            .allowDataAlsoIn(List.of(dir))
            .build(),
        command.settings().build());
  }

  @Test
  void aBadValueIsRefusedNamingTheOption() {
    assertEquals(
        "--seed = 10.0.0.4: expected HOST:PORT",
        assertThrows(
                UserError.class,
                () ->
                    parse(
                            "--port",
                            "25520",
                            "--seed",
                            "10.0.0.4",
                            "--db",
                            "jdbc:postgresql://db:5432/anvil")
                        .settings())
            .getMessage());
    assertEquals(
        "--port = 0: must be from 1 to 65535",
        assertThrows(
                UserError.class,
                () ->
                    parse(
                            "--port",
                            "0",
                            "--seed",
                            "10.0.0.4:1",
                            "--db",
                            "jdbc:postgresql://db:5432/anvil")
                        .settings())
            .getMessage());
  }
}
