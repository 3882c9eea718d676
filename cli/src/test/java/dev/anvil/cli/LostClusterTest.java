package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.runtime.client.ClusterClient;
import dev.anvil.testsupport.TestJobs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code anvil train --nodes 3} in its own JVM, as a user runs it, losing its cluster mid-job:
 * every node JVM killed with SIGKILL, or the command's client member downed by the cluster. In both
 * cases the command must exit with code 1 within 30 s, say what was lost and where the node logs
 * are, and leave no node JVM or PostgreSQL running.
 */
class LostClusterTest {
  private static final Pattern NODE_UP =
      Pattern.compile("anvil node up at (?:anvil@)?([0-9.]+:\\d+)");

  @TempDir Path dir;

  /** SIGKILL of the three node JVMs while the job trains. */
  @Test
  void killingEveryNodeEndsTrainWithExitCode1Within30s() throws Exception {
    Train train = Train.start(dir);
    try {
      List<ProcessHandle> nodes = train.awaitRunning();
      long killed = System.nanoTime();
      nodes.forEach(ProcessHandle::destroyForcibly);
      int code = train.awaitExit(Duration.ofSeconds(60));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
      String err = train.stderr();
      System.out.printf(
          "every node JVM killed: anvil train exited %d after %d ms: %s%n",
          code, millis, err.strip());
      assertEquals(1, code, train::output);
      assertTrue(millis <= 30_000, "exited " + millis + " ms after the kill");
      assertTrue(err.contains("lost the cluster") && err.contains("every node JVM"), err);
      assertTrue(err.contains("node logs in " + dir.resolve("run").toAbsolutePath()), err);
      train.assertNothingLeft(nodes);
    } finally {
      train.destroy();
    }
  }

  /** A second client joins the cluster and downs the command's client member. */
  @Test
  void aDownedClientEndsTrainWithExitCode1Within30s() throws Exception {
    Train train = Train.start(dir);
    ActorSystem<Void> other = null;
    try {
      List<ProcessHandle> nodes = train.awaitRunning();
      other =
          ClusterClient.join(
              String.join(",", train.nodeAddresses()),
              Duration.ofSeconds(30),
              ClusterClient.tls(dir.resolve("run").resolve("tls")));
      Cluster cluster = Cluster.get(other);
      Member victim = null;
      for (Member m : cluster.state().getMembers()) {
        if (m.hasRole("client") && !m.address().equals(cluster.selfMember().address())) {
          victim = m;
        }
      }
      assertTrue(victim != null, "the command's client is not a member");
      long downed = System.nanoTime();
      cluster.manager().tell(Down.apply(victim.address()));
      int code = train.awaitExit(Duration.ofSeconds(60));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downed);
      String err = train.stderr();
      System.out.printf(
          "client downed: anvil train exited %d after %d ms: %s%n", code, millis, err.strip());
      assertEquals(1, code, train::output);
      assertTrue(millis <= 30_000, "exited " + millis + " ms after the down");
      assertTrue(err.contains("was downed by the cluster"), err);
      train.assertNothingLeft(nodes);
    } finally {
      if (other != null) {
        other.terminate();
      }
      train.destroy();
    }
  }

  /** The command in a child JVM, its output in files. */
  private record Train(Process process, Path dir, Path out, Path err) {
    static Train start(Path dir) throws IOException {
      Path job = dir.resolve("long.conf");
      Files.writeString(job, TestJobs.smallJobText("long", 5_000_000));
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Path out = dir.resolve("stdout.txt");
      Path err = dir.resolve("stderr.txt");
      Process p =
          new ProcessBuilder(
                  java,
                  "-Xmx512m",
                  "-cp",
                  System.getProperty("java.class.path"),
                  Main.class.getName(),
                  "train",
                  "--nodes",
                  "3",
                  "--job",
                  job.toString(),
                  "--run-dir",
                  dir.resolve("run").toString(),
                  "--out",
                  dir.resolve("result.json").toString())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      return new Train(p, dir, out, err);
    }

    /** Waits until the job trains on 3 nodes; returns the node JVMs. */
    List<ProcessHandle> awaitRunning() throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!read(out).contains("rounds on 3 workers")) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError("the job did not start on 3 workers:\n" + output());
        }
        TimeUnit.MILLISECONDS.sleep(200); // polling the command's output
      }
      List<ProcessHandle> nodes =
          process
              .descendants()
              .filter(h -> h.info().command().orElse("").endsWith("/java"))
              .toList();
      assertEquals(
          3,
          nodes.size(),
          "node JVMs among the command's children: "
              + process
                  .descendants()
                  .map(h -> h.pid() + " " + h.info().command().orElse("?"))
                  .toList());
      return nodes;
    }

    List<String> nodeAddresses() throws IOException {
      List<String> out = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        Matcher m = NODE_UP.matcher(read(dir.resolve("run").resolve("node-" + i + ".log")));
        assertTrue(m.find(), "node " + i + " logged no address");
        out.add(m.group(1));
      }
      return out;
    }

    int awaitExit(Duration timeout) throws Exception {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(
            "anvil train still runs "
                + timeout.toSeconds()
                + " s after losing its cluster:\n"
                + output());
      }
      return process.exitValue();
    }

    /** After the command exited: no node JVM and no PostgreSQL of its run is left. */
    void assertNothingLeft(List<ProcessHandle> nodes) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      for (ProcessHandle h : nodes) {
        try {
          h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new AssertionError("node JVM " + h.pid() + " outlived the command");
        }
      }
      Path pidFile = dir.resolve("run").resolve("postgres").resolve("postmaster.pid");
      while (Files.exists(pidFile) && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(100); // PostgreSQL removes it when it has stopped
      }
      assertFalse(Files.exists(pidFile), "PostgreSQL still runs: " + read(pidFile));
    }

    String stderr() throws IOException {
      return read(err);
    }

    String output() {
      try {
        return "stdout:\n" + read(out) + "\nstderr:\n" + read(err);
      } catch (IOException e) {
        return e.toString();
      }
    }

    void destroy() {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }

    private static String read(Path file) throws IOException {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
  }
}
