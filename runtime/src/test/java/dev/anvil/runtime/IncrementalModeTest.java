package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.persistence.CheckpointStore;
import dev.anvil.runtime.journal.JournalCheck;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental mode: every round's reduced gradient is logged before the round is journaled. SIGKILL
 * of the coordinator's node between two checkpoints: the new incarnation restores the newest
 * checkpoint and replays the optimizer over the logged gradients since, recomputing no round, and
 * the job ends with the fault-free hash. Old gradients go with old checkpoints.
 */
class IncrementalModeTest {
  @TempDir Path dir;

  @Test
  void aRestartReplaysLoggedGradientsInsteadOfRecomputing() throws Exception {
    JobSpec spec =
        JobSpecParser.parse(
            """
        job {
          name = "incremental", seed = 9
          model { type = mlp, layers = [24, 256, 4] }
          data { type = synthetic, samples = 6000, features = 24, classes = 4, seed = 3 }
          optimizer { type = adam, learning-rate = 0.002 }
          batch-size = 96, logical-shards = 12, rounds = 3000, kernel = java
          checkpoint { every-rounds = 200, mode = incremental }
        }
        """,
            "incremental",
            null);
    String reference = TestJobs.referenceHash(spec);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(3, 1, dir))) {
      FollowedJob job = FollowedJob.submitWithoutRenewal(cluster, "incremental", spec, 3);
      job.awaitRound(1500, Duration.ofSeconds(120));
      // Checkpoints at 200, 400, ...; retention runs at every 3rd past the 3 kept, deleting the
      // gradients up to the oldest kept checkpoint: the log holds at most 6 checkpoint
      // intervals (plus rounds computed ahead of the journal), never the whole run.
      String log = " FROM " + CheckpointStore.GRADIENTS + " WHERE job_id = 'incremental'";
      long oldest = awaitOldestLogged(cluster, log, Duration.ofSeconds(20));
      long rows = count(cluster, "SELECT count(*)" + log);
      assertTrue(oldest > 200, "gradients of old rounds deleted during the run: oldest " + oldest);
      assertTrue(rows <= 6 * 200 + 256, "gradient log bounded during the run: " + rows + " rows");
      int victim = cluster.addresses().indexOf(job.coordinator());
      assertTrue(victim >= 0, () -> "coordinator " + job.coordinators() + " is not a node");
      cluster.process(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      long roundAtKill = job.round();
      assertTrue(roundAtKill < 2600, "the kill must come well before the end: " + roundAtKill);

      FaultChecks.awaitCompletedInJournal(cluster, job.id(), Duration.ofSeconds(240));
      job.rewatch(cluster.client()); // a new watch hears the end
      JsonNode result = job.awaitResult(Duration.ofSeconds(60));
      assertEquals(reference, result.get("paramsSha256").asText(), FaultChecks.anvilLogs(cluster));
      List<JsonNode> restarts = FaultChecks.recoveries(result, "coordinator-restart");
      assertEquals(1, restarts.size(), result::toPrettyString);
      JsonNode restart = restarts.get(0);
      System.out.println(
          "killed at round "
              + roundAtKill
              + "; "
              + restart.get("detail").asText()
              + "; replay took "
              + restart.get("replayMillis").asLong()
              + " ms");
      assertEquals(0, restart.get("redoneRounds").asLong(), restart::toString);
      assertTrue(restart.get("detail").asText().contains("logged gradients"), restart::toString);
      JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
      assertTrue(journal.exactlyOnce(3000), journal::toString);
      long kept =
          count(
              cluster,
              "SELECT count(*) FROM "
                  + CheckpointStore.GRADIENTS
                  + " WHERE job_id = 'incremental'");
      assertEquals(0, kept, "a finished job's gradient log is deleted");
    }
  }

  /**
   * The oldest logged round once retention has deleted the first ones (a deadline, not a sleep).
   */
  private static long awaitOldestLogged(LocalCluster cluster, String from, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long oldest = count(cluster, "SELECT coalesce(min(round), 0)" + from);
      if (oldest > 200 || System.nanoTime() >= deadline) {
        return oldest;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(100_000_000); // poll interval
    }
  }

  private static long count(LocalCluster cluster, String sql) throws Exception {
    try (Connection c = cluster.database().connect();
        PreparedStatement p = c.prepareStatement(sql);
        ResultSet r = p.executeQuery()) {
      r.next();
      return r.getLong(1);
    }
  }
}
