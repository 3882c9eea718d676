package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.JobClient;
import dev.anvil.runtime.LocalCluster;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs jobs on a {@link LocalCluster} the way the cluster benchmarks do. */
final class ClusterJobs {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ClusterJobs() {}

  /**
   * Submits {@code spec} as job {@code jobId} on {@code workers} workers and waits for its end;
   * returns its result, or null after saying why there is none (a node JVM gone, no end within
   * {@code timeoutMinutes}, a failed job, an unreadable result).
   */
  static JsonNode run(LocalCluster cluster, String jobId, JobSpec spec, int workers,
      long timeoutMinutes) {
    String dead = deadNode(cluster);
    if (dead != null) {
      Console.say("cluster job %s not submitted: %s", jobId, dead);
      return null;
    }
    CompletableFuture<JobClient.Outcome> future = JobClient.submit(cluster.client(), jobId, spec,
        workers, update -> { }).toCompletableFuture();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(timeoutMinutes);
    JobClient.Outcome outcome = null;
    try {
      while (outcome == null) {
        try {
          outcome = future.get(1, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
          // A node that died (e.g. OutOfMemoryError) leaves the job waiting for a worker.
          dead = deadNode(cluster);
          if (dead != null || System.nanoTime() > deadline) {
            Console.say("cluster job %s abandoned: %s", jobId, dead != null ? dead
                : "did not end within " + timeoutMinutes + " min; node 1:\n"
                + cluster.tail(0, 30) + "\nnode 2:\n" + cluster.tail(1, 30));
            return null;
          }
        }
      }
    } catch (Exception e) {
      Console.say("cluster job %s: %s", jobId, e);
      return null;
    }
    if (!outcome.succeeded()) {
      Console.say("cluster job %s failed: %s; node 1:\n%s\nnode 2:\n%s", jobId, outcome.failure(),
          cluster.tail(0, 30), cluster.tail(1, 30));
      return null;
    }
    try {
      return JSON.readTree(outcome.resultJson());
    } catch (IOException e) {
      Console.say("cluster job %s: unreadable result (%s): %s", jobId, e.getMessage(),
          outcome.resultJson());
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
        return String.format(Locale.ROOT, "node %d exited (code %d); errors in %s: %s", i + 1,
            p.exitValue(), cluster.logFile(i), lines.isEmpty() ? "(none)" : String.join(" | ",
                lines.subList(Math.max(0, lines.size() - 3), lines.size())));
      }
    }
    return null;
  }
}
