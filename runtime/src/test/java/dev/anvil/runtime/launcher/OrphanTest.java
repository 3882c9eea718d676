package dev.anvil.runtime.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills the launcher of a 2-node local cluster with SIGKILL ({@code destroyForcibly}), which runs
 * no shutdown hook, and checks that both node JVMs and the embedded PostgreSQL exit on their own
 * within 30 s: no orphans.
 */
class OrphanTest {
  @TempDir Path dir;

  @Test
  void killingTheLauncherLeavesNoNodeOrDatabaseBehind() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process launcher =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                LauncherForTest.class.getName(),
                dir.toString())
            .redirectErrorStream(true)
            .start();
    List<Long> pids = new ArrayList<>();
    List<String> output = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(launcher.getInputStream()))) {
      String line;
      while ((line = out.readLine()) != null) {
        output.add(line);
        if (line.startsWith("PIDS ")) {
          Arrays.stream(line.substring(5).trim().split(" "))
              .map(Long::parseLong)
              .forEach(pids::add);
          break;
        }
      }
      assertEquals(3, pids.size(), () -> "launcher output:\n" + String.join("\n", output));
      for (long pid : pids) {
        assertTrue(
            ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
            "process " + pid + " runs before the kill");
      }
      launcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (long pid : pids) {
      ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
      if (handle == null) {
        continue;
      }
      long left = Math.max(1, deadline - System.nanoTime());
      try {
        handle.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        handle.destroyForcibly();
        throw new AssertionError(
            "process "
                + pid
                + " ("
                + handle.info().command().orElse("?")
                + ") outlived its killed launcher by 30 s");
      }
    }
  }
}
