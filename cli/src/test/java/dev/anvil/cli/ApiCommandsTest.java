package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.cli.MainTest.Outcome;
import dev.anvil.coordinator.JobJournal;
import dev.anvil.runtime.journal.JournalRows;
import dev.anvil.runtime.node.AnvilNode;
import dev.anvil.runtime.node.SingleNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code anvil submit|status|pause|resume|cancel} against a real node's HTTP API (a one-node
 * cluster in this JVM, embedded PostgreSQL, a token).
 */
class ApiCommandsTest {
  @TempDir static Path dir;
  static SingleNode cluster;
  static AnvilNode node;
  static String api;
  static String tokenFile;

  @BeforeAll
  static void start() throws Exception {
    String token = "api-commands-test-" + Long.toHexString(System.nanoTime());
    tokenFile = Files.writeString(dir.resolve("token"), token + "\n").toString();
    cluster = SingleNode.start(dir, Map.of("anvil.worker.slots", 2, "anvil.http.token", token));
    node = cluster.node();
    api = node.httpUrl().orElseThrow().replace("http://", "");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static Outcome anvil(String... args) {
    return MainTest.anvil(args);
  }

  @Test
  void submitFollowPauseResumeAndCancelAJob() throws Exception {
    Outcome none = anvil("status", "--cluster", api);
    assertEquals(0, none.code(), none.err());
    assertTrue(none.out().contains("no jobs"), none.out());

    Path job = dir.resolve("job.conf");
    Files.writeString(
        job,
        """
        job {
          name = "api-job", seed = 2
          model { type = mlp, layers = [8, 16, 3] }
          data { type = synthetic, samples = 1200, features = 8, classes = 3, seed = 4 }
          optimizer { type = sgd, learning-rate = 0.05 }
          batch-size = 60, logical-shards = 6, rounds = 200000, kernel = java
        }
        """);
    Outcome denied = anvil("submit", "--job", job.toString(), "--cluster", api);
    assertEquals(2, denied.code());
    assertTrue(denied.err().contains("Authorization: Bearer"), denied.err());

    Outcome submitted =
        anvil(
            "submit",
            "--job",
            job.toString(),
            "--job-id",
            "api-job",
            "--workers",
            "2",
            "--cluster",
            api,
            "--token-file",
            tokenFile);
    assertEquals(0, submitted.code(), submitted.err());
    assertTrue(submitted.out().contains("submitted job api-job on 2 workers"), submitted.out());

    Outcome paused = anvil("pause", "api-job", "--cluster", api, "--token-file", tokenFile);
    assertEquals(0, paused.code(), paused.err());
    assertTrue(paused.out().contains("job api-job is paused"), paused.out());
    Outcome status = anvil("status", "api-job", "--cluster", api);
    assertTrue(status.out().contains("job api-job: paused, round "), status.out());

    Outcome resumed = anvil("resume", "api-job", "--cluster", api, "--token-file", tokenFile);
    assertEquals(0, resumed.code(), resumed.err());
    // Running again: where it runs is shown (this node coordinates and has both workers).
    var address = node.system().address();
    String self = address.getHost().get() + ":" + address.getPort().get();
    long uid =
        org.apache.pekko.cluster.typed.Cluster.get(node.system())
            .selfMember()
            .uniqueAddress()
            .longUid();
    String placed = "  workers: " + self + " (uid " + uid + ") x2";
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
    Outcome running = anvil("status", "api-job", "--cluster", api);
    while (!running.out().contains(placed)) {
      assertTrue(System.nanoTime() < deadline, "no placement after the resume: " + running.out());
      Thread.sleep(200); // polling the API until the workers are prepared again
      running = anvil("status", "api-job", "--cluster", api);
    }
    assertTrue(
        running.out().contains("  coordinator: " + self + " (uid " + uid + ")"), running.out());
    Outcome cancelled =
        anvil(
            "cancel", "api-job", "--reason", "enough", "--cluster", api, "--token-file", tokenFile);
    assertEquals(0, cancelled.code(), cancelled.err());
    Outcome after = anvil("status", "api-job", "--cluster", api);
    assertTrue(
        after.out().contains("job api-job: cancelled") && after.out().contains("enough"),
        after.out());
    // The cancel is the job's last word: no round is recorded committed after it.
    List<JournalRows.Row> rows =
        JournalRows.all(node.system(), cluster.database().settings(false), "api-job");
    int cancelledAt = -1;
    for (int i = 0; i < rows.size(); i++) {
      if (rows.get(i).event() instanceof JobJournal.JobCancelled) {
        cancelledAt = i;
      }
    }
    assertTrue(cancelledAt >= 0, "JobCancelled in the journal");
    assertTrue(
        rows.subList(cancelledAt, rows.size()).stream()
            .noneMatch(r -> r.event() instanceof JobJournal.RoundCommitted),
        "rounds recorded after the cancel: " + rows.subList(cancelledAt, rows.size()));
    Outcome all = anvil("status", "--cluster", api);
    assertTrue(all.out().contains("api-job") && all.out().contains("cancelled"), all.out());

    Outcome unknown = anvil("pause", "nope", "--cluster", api, "--token-file", tokenFile);
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("no job nope"), unknown.err());
  }
}
