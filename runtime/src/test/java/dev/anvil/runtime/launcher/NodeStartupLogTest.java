package dev.anvil.runtime.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.anvil.runtime.node.AnvilNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node JVM starts without a warning: no SLF4J "replay" of logging calls made while it initialized
 * (SLF4J initialized by two threads at once), no Micrometer warning about a registry added to a
 * composite that already had meters. It logs through the configuration its launcher wrote into the
 * run folder (no jar ships one).
 */
class NodeStartupLogTest {
  @TempDir Path dir;

  @Test
  void aNodeStartsWithoutWarningsAndLogsThroughTheRunFoldersConfiguration() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(1, 1, dir))) {
      List<String> log = awaitLine(cluster.logFile(0), "anvil node up at", 60);
      List<String> warnings =
          log.stream()
              .filter(
                  line ->
                      line.startsWith("SLF4J")
                          || line.contains(" WARN ")
                          || line.contains(" ERROR "))
              .toList();
      assertEquals(List.of(), warnings, () -> String.join("\n", log));
      assertTrue(
          log.stream().anyMatch(line -> line.contains(" INFO  d.a.runtime.http.HttpApi")),
          () -> "Anvil's INFO lines in the node log:\n" + String.join("\n", log));
      assertTrue(Files.isRegularFile(dir.resolve("logback-node.xml")));
    }
    assertTrue(
        AnvilNode.class.getClassLoader().getResource("logback-node.xml") == null,
        "no logging configuration in the runtime's resources");
  }

  /** The lines of {@code file} once one contains {@code text}; fails after {@code seconds}. */
  private static List<String> awaitLine(Path file, String text, int seconds)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      List<String> lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
      if (lines.stream().anyMatch(line -> line.contains(text))) {
        return lines;
      }
      Thread.sleep(100); // polling the file; the deadline bounds the wait
    }
    fail(
        "no line with '"
            + text
            + "' in "
            + file
            + " within "
            + seconds
            + " s:\n"
            + NodeProcesses.tailOf(file, 50));
    return List.of();
  }
}
