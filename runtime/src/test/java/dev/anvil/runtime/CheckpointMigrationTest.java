package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.coordinator.JobProtocol;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.persistence.CheckpointStore;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.journal.JournalCheck;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pause, corrupt, resume, export and import, on real node JVMs and real PostgreSQL:
 *
 * <ol>
 *   <li>a job on a 3-node cluster is paused and its checkpoint exported to a file;
 *   <li>bits of the newest stored checkpoint are flipped in the database; resumed, the job detects
 *       it, restores the checkpoint before, recomputes the rounds since and ends with the
 *       uninterrupted run's hash;
 *   <li>a fresh cluster with its own database refuses a corrupted file and files whose data
 *       fingerprint or kernel does not match, then imports the exported file and finishes the job
 *       with the same hash, having committed only the rounds after the import.
 * </ol>
 */
class CheckpointMigrationTest {
  static final int EVERY = 50;

  @TempDir Path dir;

  @Test
  void pausedJobsMoveBetweenClustersAndSurviveACorruptCheckpoint() throws Exception {
    JobSpec spec =
        JobSpecParser.parse(
            """
        job {
          name = "migrate", seed = 5
          model { type = mlp, layers = [16, 64, 4] }
          data { type = synthetic, samples = 4000, features = 16, classes = 4, seed = 8 }
          optimizer { type = adam, learning-rate = 0.002 }
          batch-size = 64, logical-shards = 8, rounds = 2400, kernel = java
          checkpoint { every-rounds = %d, mode = snapshot }
        }
        """
                .formatted(EVERY),
            "migrate",
            null);
    String reference = TestJobs.referenceHash(spec);
    Path exported = dir.resolve("migrate.anvilckpt");
    long pausedAt;
    try (LocalCluster a = LocalCluster.start(LocalClusterSettings.of(3, 1, dir.resolve("a")))) {
      FollowedJob job = FollowedJob.submit(a, "migrate", spec, 3);
      job.awaitRound(3 * EVERY, Duration.ofSeconds(90));
      JobUpdate paused =
          JobClient.pause(a.client(), "migrate").toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertInstanceOf(JobProtocol.Paused.class, paused, paused.toString());
      pausedAt = ((JobProtocol.Paused) paused).round();
      assertTrue(pausedAt < 2400, "paused before the end: " + pausedAt);

      JobProtocol.Exported export =
          JobClient.export(a.client(), "migrate", Duration.ofSeconds(30))
              .toCompletableFuture()
              .get(40, TimeUnit.SECONDS);
      assertNull(export.error(), export.error());
      assertEquals(pausedAt, export.round(), "a pause checkpoints the round it stops at");
      Files.write(exported, export.checkpoint());

      List<CheckpointStore.Stored> stored;
      try (CheckpointStore store = new CheckpointStore(a.database())) {
        stored = store.list("migrate");
      }
      assertEquals(pausedAt, stored.get(0).round());
      assertTrue(stored.size() >= 2 && stored.size() < 2 * 3, "kept: " + stored);
      long previous = stored.get(1).round();
      flipBits(a, "migrate", pausedAt);

      JobUpdate resumed =
          JobClient.resume(a.client(), "migrate").toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertInstanceOf(JobProtocol.Accepted.class, resumed, resumed.toString());
      JsonNode result = job.awaitResult(Duration.ofSeconds(120));
      assertEquals(
          reference,
          result.get("paramsSha256").asText(),
          "resumed from the checkpoint before the corrupt one: the uninterrupted run's bits");
      String logs = allLogs(a);
      assertTrue(
          logs.contains("checkpoint skipped, round " + pausedAt + ": its SHA-256 is"),
          "the corrupt checkpoint is detected:\n" + logs);
      assertTrue(
          logs.contains(
              "restored the checkpoint of round "
                  + previous
                  + "; "
                  + (pausedAt - previous)
                  + " rounds to recompute"),
          logs);
      JournalCheck.Report journal = JournalCheck.check(a.client(), a.database(), "migrate");
      assertTrue(journal.exactlyOnce(2400), journal.toString());
      assertTrue(
          journal.compacted() && journal.events() < 600,
          "events before the oldest kept" + " checkpoint are deleted: " + journal);
    }

    byte[] file = Files.readAllBytes(exported);
    Checkpoint checkpoint = CheckpointFormat.decode(file);
    try (LocalCluster b = LocalCluster.start(LocalClusterSettings.of(2, 1, dir.resolve("b")))) {
      byte[] flipped = file.clone();
      flipped[flipped.length / 2] ^= 0x10;
      assertRefused(b, "bad-file", flipped, "SHA-256 does not match");
      assertRefused(
          b,
          "other-data",
          CheckpointFormat.encode(
              new Checkpoint(
                  checkpoint.jobId(),
                  checkpoint.spec(),
                  3,
                  "0".repeat(64),
                  checkpoint.kernel(),
                  checkpoint.state(),
                  checkpoint.loss(),
                  checkpoint.history(),
                  checkpoint.epochLossSum(),
                  checkpoint.epochRounds())),
          "fingerprint");
      assertRefused(
          b,
          "other-kernel",
          CheckpointFormat.encode(
              new Checkpoint(
                  checkpoint.jobId(),
                  checkpoint.spec(),
                  3,
                  checkpoint.dataFingerprint(),
                  "native",
                  checkpoint.state(),
                  checkpoint.loss(),
                  checkpoint.history(),
                  checkpoint.epochLossSum(),
                  checkpoint.epochRounds())),
          "kernel native");

      JobUpdate accepted =
          JobClient.importCheckpoint(b.client(), "migrated", file, 2)
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertInstanceOf(JobProtocol.Accepted.class, accepted, accepted.toString());
      JobClient.Outcome o =
          JobClient.watch(b.client(), "migrated", u -> {})
              .toCompletableFuture()
              .get(120, TimeUnit.SECONDS);
      assertTrue(o.succeeded(), o.failure());
      assertEquals(
          reference,
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(o.resultJson())
              .get("paramsSha256")
              .asText(),
          "finished on another cluster: the uninterrupted run's bits");
      JournalCheck.Report journal = JournalCheck.check(b.client(), b.database(), "migrated");
      assertEquals(pausedAt, journal.importedAt());
      assertTrue(journal.exactlyOnce(2400), journal.toString());
      for (String refused : List.of("bad-file", "other-data", "other-kernel")) {
        assertEquals(
            0,
            JournalCheck.check(b.client(), b.database(), refused).events(),
            "a refused import records nothing");
      }
    }
  }

  private static void assertRefused(LocalCluster cluster, String jobId, byte[] file, String reason)
      throws Exception {
    JobUpdate u =
        JobClient.importCheckpoint(cluster.client(), jobId, file, 2)
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    assertInstanceOf(JobProtocol.Rejected.class, u, u.toString());
    assertTrue(((JobProtocol.Rejected) u).reason().contains(reason), u.toString());
  }

  /** Flips one bit in the middle of a stored checkpoint, as a disk or a person might. */
  private static void flipBits(LocalCluster cluster, String jobId, long round) throws Exception {
    try (Connection c = cluster.database().connect();
        PreparedStatement p =
            c.prepareStatement(
                "UPDATE "
                    + CheckpointStore.TABLE
                    + " SET data = set_byte(data, length(data) / 2,"
                    + " get_byte(data, length(data) / 2) # 4) WHERE job_id = ? AND round = ?")) {
      p.setString(1, jobId);
      p.setLong(2, round);
      assertEquals(1, p.executeUpdate());
    }
  }

  private static String allLogs(LocalCluster cluster) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cluster.size(); i++) {
      b.append(cluster.tail(i, 4000)).append('\n');
    }
    return b.toString();
  }
}
