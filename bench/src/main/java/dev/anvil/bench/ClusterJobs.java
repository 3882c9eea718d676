package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Runs jobs on a {@link LocalCluster} the way the cluster benchmarks do. */
final class ClusterJobs {
  private ClusterJobs() {}

  /**
   * Submits {@code spec} as job {@code jobId} on {@code workers} workers and waits for its end;
   * returns its result, or null after saying why there is none (a node JVM gone, no end within
   * {@code timeoutMinutes}, a failed job, an unreadable result).
   */
  static JsonNode run(
      LocalCluster cluster, String jobId, JobSpec spec, int workers, long timeoutMinutes) {
    String dead = deadNode(cluster);
    if (dead != null) {
      Console.say("cluster job %s not submitted: %s", jobId, dead);
      return null;
    }
    FollowedJob.Ending end;
    try {
      // A node that died (e.g. OutOfMemoryError) leaves the job waiting for a worker.
      end =
          FollowedJob.submit(cluster.client(), jobId, spec, workers, u -> {})
              .awaitEnding(Duration.ofMinutes(timeoutMinutes), () -> deadNode(cluster));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Console.say("cluster job %s: %s", jobId, e);
      return null;
    }
    switch (end.kind()) {
      case TIMED_OUT ->
          Console.say(
              "cluster job %s abandoned: did not end within %d min;" + " node 1:\n%s\nnode 2:\n%s",
              jobId, timeoutMinutes, cluster.tail(0, 30), cluster.tail(1, 30));
      case ABANDONED -> Console.say("cluster job %s abandoned: %s", jobId, end.reason());
      case FAILED ->
          Console.say(
              "cluster job %s failed: %s; node 1:\n%s\nnode 2:\n%s",
              jobId, end.reason(), cluster.tail(0, 30), cluster.tail(1, 30));
      case FINISHED -> {
        return result(end);
      }
    }
    return null;
  }

  /** The result of a finished job, or null after saying it is unreadable. */
  private static JsonNode result(FollowedJob.Ending finished) {
    try {
      return finished.result();
    } catch (UncheckedIOException e) {
      Console.say(
          "cluster job %s: unreadable result (%s): %s",
          finished.jobId(), e.getCause().getMessage(), finished.resultJson());
      return null;
    }
  }

  /** Why a node JVM is gone (exit code and its last error lines), or null if all run. */
  static String deadNode(LocalCluster cluster) {
    for (int i = 0; i < cluster.size(); i++) {
      Process p = cluster.process(i);
      if (!p.isAlive()) {
        List<String> lines = new ArrayList<>();
        for (String line : cluster.tail(i, 400).split("\n")) {
          if (line.contains("Error") || line.contains("Exception")) {
            lines.add(line);
          }
        }
        return String.format(
            Locale.ROOT,
            "node %d exited (code %d); errors in %s: %s",
            i + 1,
            p.exitValue(),
            cluster.logFile(i),
            lines.isEmpty()
                ? "(none)"
                : String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())));
      }
    }
    return null;
  }
}
