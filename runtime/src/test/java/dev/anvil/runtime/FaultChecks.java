package dev.anvil.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.runtime.journal.JournalCheck;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The checks the fault tests end with, on a {@link LocalCluster}: the journal's verdict of a job
 * (rounds 1..N exactly once, no single-writer violation), the recoveries in its result, and Anvil's
 * own lines of the node logs for a failure's message. The job itself is followed by a {@link
 * FollowedJob}.
 */
final class FaultChecks {
  private FaultChecks() {}

  /** The journal's verdict for job {@code jobId}. */
  static JournalCheck.Report journal(LocalCluster cluster, String jobId) {
    return JournalCheck.check(cluster.client(), cluster.database(), jobId);
  }

  /**
   * Polls the journal (every 0.5 s, up to {@code timeout}) until job {@code jobId}'s completion is
   * in it; fails with the journal's verdict and the nodes' Anvil lines.
   */
  static JournalCheck.Report awaitCompletedInJournal(
      LocalCluster cluster, String jobId, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JournalCheck.Report r = journal(cluster, jobId);
      if (r.completed()) {
        return r;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "job "
                + jobId
                + " not completed in the journal within "
                + timeout
                + ": "
                + r
                + "\n"
                + anvilLogs(cluster));
      }
      TimeUnit.MILLISECONDS.sleep(500); // polling the database; there is nothing to wait on
    }
  }

  /** The recoveries of {@code kind} in a result.json. */
  static List<JsonNode> recoveries(JsonNode result, String kind) {
    List<JsonNode> out = new ArrayList<>();
    result
        .path("recoveries")
        .forEach(
            r -> {
              if (r.path("kind").asText().equals(kind)) {
                out.add(r);
              }
            });
    return out;
  }

  /** Anvil's own log lines of every node, each node's under a "--- node N" line. */
  static String anvilLogs(LocalCluster cluster) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cluster.size(); i++) {
      sb.append("--- node ").append(i + 1).append('\n').append(anvilLines(cluster, i)).append('\n');
    }
    return sb.toString();
  }

  /** Anvil's own lines of node {@code index}'s log. */
  static String anvilLines(LocalCluster cluster, int index) {
    return String.join(
        "\n",
        cluster
            .tail(index, 5000)
            .lines()
            .filter(l -> l.contains(" d.a.") || l.contains("dev.anvil"))
            .toList());
  }
}
