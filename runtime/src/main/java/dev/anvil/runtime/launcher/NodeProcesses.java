package dev.anvil.runtime.launcher;

import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.node.NodeMain;
import dev.anvil.runtime.node.NodeSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The processes of a local cluster: how a node JVM is started (its settings, command line, seeds,
 * log file, environment), signals, and log tails.
 */
final class NodeProcesses {
  private NodeProcesses() {}

  /**
   * The seed nodes of node {@code index} (host:port): every other node, and itself first when it
   * {@code forms} the cluster (only then may it start a cluster of its own).
   */
  static List<String> seeds(List<NodePorts> ports, int index, boolean forms) {
    List<String> seeds = new ArrayList<>();
    if (forms) {
      seeds.add(ports.get(index).address());
    }
    for (int i = 0; i < ports.size(); i++) {
      if (i != index) {
        seeds.add(ports.get(i).address());
      }
    }
    return seeds;
  }

  /**
   * What node JVM {@code ports} is told: the settings {@code anvil node} would give a node of the
   * same address, seeds, database, slots and HTTP API, and no schema creation (the launcher created
   * it). The password comes from the environment ({@link #launch}).
   */
  static NodeSettings.Builder settings(
      LocalClusterSettings s, DatabaseSettings db, NodePorts ports, List<String> seeds) {
    return NodeSettings.builder()
        .host(NodePorts.HOST)
        .port(ports.cluster())
        .seeds(seeds)
        .database(db.url(), db.user())
        .createSchema(false)
        .slots(s.slotsPerNode())
        .http(NodePorts.HOST, ports.http());
  }

  /**
   * The command line of node {@code index}: ANVIL_NODE_JAVA_OPTS ({@code {node}} is its number),
   * the cluster's options for every node and for this one, then its heap, logging and {@code
   * node}'s settings, which come last so that no other option overrides them.
   */
  static List<String> command(
      LocalClusterSettings s, int index, NodeSettings.Builder node, Path logConfig) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java));
    String extra = System.getenv("ANVIL_NODE_JAVA_OPTS");
    if (extra != null && !extra.isBlank()) {
      command.addAll(
          List.of(extra.trim().replace("{node}", String.valueOf(index + 1)).split("\\s+")));
    }
    command.addAll(s.commonJvmOptions());
    command.addAll(s.jvmOptionsOf(index));
    command.addAll(
        List.of(
            "-Xmx" + s.heap(),
            "-XX:+UseG1GC",
            "-Dlogback.configurationFile=" + logConfig,
            "-cp",
            System.getProperty("java.class.path"),
            "-Danvil.node.watch-stdin=true"));
    command.addAll(node.jvmOptions());
    command.add(NodeMain.class.getName());
    return command;
  }

  /**
   * Starts node {@code index} on {@code ports}, joining through {@code seeds}; its output goes to
   * its log file (appended), and it reads the database password from its environment.
   */
  static Process launch(
      LocalClusterSettings s, DatabaseSettings db, int index, NodePorts ports, List<String> seeds) {
    List<String> command =
        command(s, index, settings(s, db, ports, seeds), logConfig(s.dataDirectory()));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(logFile(s.dataDirectory(), index).toFile()));
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    pb.environment().put("ANVIL_DB_PASSWORD", db.password());
    try {
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + (index + 1) + ": " + e.getMessage(), e);
    }
  }

  /** {@code node-N.log} in {@code dataDirectory}: node {@code index}'s output (0-based). */
  static Path logFile(Path dataDirectory, int index) {
    return dataDirectory.resolve("node-" + (index + 1) + ".log");
  }

  /**
   * The logging configuration of the node JVMs: INFO for Anvil and Pekko's cluster, warnings for
   * the rest, to the node's log file. It is written into the run folder, not shipped in a jar: a
   * library's jar carries no logging configuration (an application that embeds Anvil configures its
   * own).
   */
  static final String NODE_LOG_CONFIG =
      """
      <configuration>
        <!-- Written by the launcher of this local cluster; its node JVMs read it. Edit it to
             change what the next nodes started from this folder log. -->
        <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
          <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg%n</pattern></encoder>
        </appender>
        <logger name="dev.anvil" level="${anvil.log.level:-INFO}"/>
        <logger name="org.apache.pekko.cluster" level="INFO"/>
        <logger name="org.apache.pekko.stream.Materializer" level="ERROR"/>
        <root level="WARN"><appender-ref ref="STDOUT"/></root>
      </configuration>
      """;

  /** {@code runDirectory/logback-node.xml}, written with {@link #NODE_LOG_CONFIG} if missing. */
  static Path logConfig(Path runDirectory) {
    Path file = runDirectory.resolve("logback-node.xml");
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(runDirectory);
        Files.writeString(file, NODE_LOG_CONFIG);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the nodes' logging configuration " + file + ": " + e.getMessage(), e);
    }
    return file.toAbsolutePath();
  }

  static String tailOf(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log at " + file + ")";
    }
  }

  /** Sends {@code signal} (STOP, CONT) to process {@code pid}. */
  static void signal(long pid, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
              .redirectErrorStream(true)
              .start();
      String out = new String(kill.getInputStream().readAllBytes());
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid + " failed: " + out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run kill -" + signal + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
