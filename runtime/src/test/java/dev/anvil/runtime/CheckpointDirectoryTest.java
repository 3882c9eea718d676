package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.journal.JournalCheck;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints as files ({@code anvil.checkpoint.directory}) on real node JVMs: the coordinator's
 * node is killed with SIGKILL, then the newest checkpoint file gets a flipped bit. The new
 * incarnation, on another node, restores the one before it from its file and ends with the
 * fault-free hash; the table rows hold no checkpoint bytes.
 */
class CheckpointDirectoryTest {
  @TempDir Path dir;

  @Test
  void checkpointFilesSurviveACoordinatorLossAndCorruptOnesAreSkipped() throws Exception {
    JobSpec spec = TestJobs.faultJob("file-checkpoints", 3000);
    String reference = TestJobs.referenceHash(spec);
    Path checkpoints = dir.resolve("checkpoints");
    LocalClusterSettings settings =
        LocalClusterSettings.of(3, 1, dir.resolve("cluster"))
            .withCommonJvmOptions(List.of("-Danvil.checkpoint.directory=" + checkpoints));
    try (LocalCluster cluster = LocalCluster.start(settings)) {
      FollowedJob job = FollowedJob.submitWithoutRenewal(cluster, "file-checkpoints", spec, 3);
      job.awaitRound(400, Duration.ofSeconds(90));
      int victim = cluster.addresses().indexOf(job.coordinator());
      assertTrue(victim >= 0, () -> "coordinator " + job.coordinators() + " is not a node");
      cluster.process(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      long roundAtKill = job.round();

      Path folder = checkpoints.resolve("job-file-checkpoints");
      List<Path> files;
      try (Stream<Path> list = Files.list(folder)) {
        files =
            list.filter(f -> f.toString().endsWith(".ckpt"))
                .sorted((a, b) -> Long.compare(round(a), round(b)))
                .toList();
      }
      assertTrue(files.size() >= 3, "the kept checkpoints are files: " + files);
      // The newest file: journaled or not yet (written just before the kill), it must not be
      // restored; the one before it must.
      Path newest = files.get(files.size() - 1);
      long corrupted = round(newest);
      byte[] bytes = Files.readAllBytes(newest);
      bytes[bytes.length / 3] ^= 0x04;
      Files.write(newest, bytes);
      long tableBytes;
      try (Connection c = cluster.database().connect();
          Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT coalesce(sum(octet_length(data)), -1) FROM"
                      + " anvil_checkpoint WHERE job_id = 'file-checkpoints'")) {
        r.next();
        tableBytes = r.getLong(1);
      }
      assertEquals(0, tableBytes, "rows without bytes: the bytes are in the files");

      FaultChecks.awaitCompletedInJournal(cluster, job.id(), Duration.ofSeconds(240));
      job.rewatch(cluster.client()); // a new watch hears the end
      JsonNode result = job.awaitResult(Duration.ofSeconds(60));
      assertEquals(reference, result.get("paramsSha256").asText(), FaultChecks.anvilLogs(cluster));
      JsonNode restart = FaultChecks.recoveries(result, "coordinator-restart").get(0);
      long previous = round(files.get(files.size() - 2));
      assertTrue(
          restart.get("detail").asText().contains("at the checkpoint of round " + previous),
          () ->
              "restored "
                  + previous
                  + ", the checkpoint before the corrupt "
                  + corrupted
                  + " (killed at round "
                  + roundAtKill
                  + "): "
                  + restart);
      String logs = FaultChecks.anvilLogs(cluster);
      assertTrue(!logs.contains("restored the checkpoint of round " + corrupted), logs);
      JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
      assertTrue(journal.exactlyOnce(3000), journal::toString);
    }
  }

  private static long round(Path checkpointFile) {
    String name = checkpointFile.getFileName().toString();
    return Long.parseLong(name.substring(0, name.indexOf('.')));
  }
}
