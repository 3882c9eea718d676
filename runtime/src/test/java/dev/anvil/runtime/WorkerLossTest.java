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
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills with SIGKILL ({@code destroyForcibly}) a node JVM that hosts one of a job's three workers
 * but not its coordinator, once at least 100 rounds are committed. The coordinator must hand the
 * lost worker's shards to the survivors at the round's deadline, without waiting for the failure
 * detector or for the node to be downed, and the job must end with the fault-free (reference) hash.
 * The time from the kill to the next committed round is printed.
 */
class WorkerLossTest {
  @TempDir Path dir;

  @Test
  void killingAWorkerNodeMidJobKeepsTheFaultFreeHash() throws Exception {
    JobSpec spec = TestJobs.faultJob("loss", 4000);
    String reference = TestJobs.referenceHash(spec);
    // No launcher downing: the path of nodes on hosts without one (detection, then the
    // split-brain resolver).
    try (LocalCluster cluster =
        LocalCluster.start(LocalClusterSettings.of(3, 1, dir).withDownExitedNodes(false))) {
      FollowedJob job = FollowedJob.submit(cluster, "loss", spec, 3);
      job.awaitRound(100, Duration.ofSeconds(90));
      int coordinator = cluster.addresses().indexOf(job.coordinator());
      assertTrue(coordinator >= 0, job.coordinator());
      int victim = coordinator == 0 ? 1 : 0;
      cluster.process(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      long roundAtKill = job.round() + 1; // a round in flight at the kill may still land
      assertTrue(
          roundAtKill <= 3000,
          "the kill must come well before the end: round "
              + (roundAtKill - 1)
              + " of 4000 was already committed");
      long killedAt = System.nanoTime();
      job.awaitRound(roundAtKill + 1, Duration.ofSeconds(180));
      long recoveredAfter = System.nanoTime() - killedAt;

      JsonNode result = job.awaitResult(Duration.ofSeconds(180));
      assertEquals(reference, result.get("paramsSha256").asText());
      // The recoveries in result.json: the deadline's (at once), later the failure detector's;
      // none redoes a committed round.
      // The plane's (the lost worker's connection closed) or the deadline's, at once.
      assertTrue(
          FaultChecks.recoveries(result, "plane-peer").size()
                  + FaultChecks.recoveries(result, "deadline").size()
              >= 1,
          result::toPrettyString);
      result.path("recoveries").forEach(r -> assertEquals(0, r.get("redoneRounds").asLong()));
      JournalCheck.Report journal = FaultChecks.journal(cluster, "loss");
      assertTrue(journal.exactlyOnce(4000), journal::toString);
      assertEquals(1, journal.epochs(), journal::toString);
      String coordinatorLog = FaultChecks.anvilLines(cluster, coordinator);
      System.out.printf(
          "worker node killed: next committed round after %.0f ms%n", recoveredAfter / 1e6);
      // The rounds before the kill were summed on the data plane; the round the kill broke went
      // over Artery; the rounds after it on the plane again, without the lost worker.
      long planeRounds = result.get("dataPlaneRounds").asLong();
      assertTrue(planeRounds >= 100 && planeRounds < 4000, result::toPrettyString);
      assertTrue(coordinatorLog.contains("over Artery"), coordinatorLog);
      // The plane or the deadline, not the failure detector (seconds), moved the lost worker's
      // shards.
      assertTrue(
          coordinatorLog.contains("failed on the data plane")
              || coordinatorLog.contains("late past its deadline"),
          () ->
              "no deadline re-dispatch in the coordinator's log ("
                  + job.coordinator()
                  + "):\n"
                  + coordinatorLog
                  + "\nother nodes:\n"
                  + FaultChecks.anvilLogs(cluster));
    }
  }
}
