package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.journal.JournalCheck;
import dev.anvil.runtime.journal.JournalRows;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills with SIGKILL the node JVM hosting a job's coordinator, mid-job. Sharding must start the
 * coordinator again on a surviving node by itself (remember-entities: after the kill nobody sends
 * the job a message until its completion is in the journal), the new incarnation recomputes the
 * committed rounds without recording them twice, and the job ends with the fault-free hash. The
 * journal is read back and checked.
 */
class CoordinatorLossTest {
  @TempDir Path dir;

  @Test
  void killingTheCoordinatorsNodeKeepsTheFaultFreeHash() throws Exception {
    JobSpec spec = TestJobs.faultJob("coordinator-loss", 6000);
    String reference = TestJobs.referenceHash(spec);
    // No launcher downing: the path of nodes on hosts without one (detection, then the
    // split-brain resolver).
    // Old events are kept, so that the commit times around the kill can be read at the end
    // (deleting them across a take-over is tested by SuccessiveKillsTest and the demo).
    try (LocalCluster cluster =
        LocalCluster.start(
            LocalClusterSettings.of(3, 1, dir)
                .withDownExitedNodes(false)
                .withCommonJvmOptions(List.of("-Danvil.checkpoint.delete-old-events=off")))) {
      long submittedAt = System.currentTimeMillis();
      FollowedJob job = FollowedJob.submitWithoutRenewal(cluster, "coordinator-loss", spec, 3);
      job.awaitRound(300, Duration.ofSeconds(90));
      int victim = cluster.addresses().indexOf(job.coordinator());
      assertTrue(victim >= 0, () -> "coordinator " + job.coordinators() + " is not a node");
      long killedAt = System.currentTimeMillis();
      cluster.process(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      long roundAtKill = job.round();
      assertTrue(
          roundAtKill < 5000, "the kill must come well before the end: round " + roundAtKill);

      FaultChecks.awaitCompletedInJournal(cluster, job.id(), Duration.ofSeconds(240));
      job.rewatch(cluster.client()); // a new watch hears the end
      JsonNode result = job.awaitResult(Duration.ofSeconds(60));
      assertEquals(reference, result.get("paramsSha256").asText(), FaultChecks.anvilLogs(cluster));
      List<JsonNode> restarts = FaultChecks.recoveries(result, "coordinator-restart");
      assertEquals(1, restarts.size(), result::toPrettyString);
      JsonNode restart = restarts.get(0);
      long toNextRound = restart.get("firstCommitMillis").asLong() - killedAt;
      System.out.printf(
          "coordinator node killed at round %d: new incarnation after %d ms,"
              + " first dispatch after %d ms, next committed round after %d ms (replay of %d"
              + " rounds: %d ms); coordinators %s%n",
          roundAtKill,
          restart.get("faultSeenMillis").asLong() - killedAt,
          restart.get("redispatchedMillis").asLong() - killedAt,
          toNextRound,
          restart.get("redoneRounds").asLong(),
          restart.get("replayMillis").asLong(),
          job.coordinators());
      for (int n = 0; n < cluster.size(); n++) {
        final int i = n;
        if (i != victim) {
          cluster
              .tail(i, 3000)
              .lines()
              .filter(
                  l ->
                      l.matches(
                          ".*(UNREACHABLE|SBR|removing|"
                              + "taking over|epoch|Singleton|ShardCoordinator|recovered).*"))
              .forEach(l -> System.out.println("node " + (i + 1) + ": " + l));
        }
      }
      System.out.println("killed at " + java.time.Instant.ofEpochMilli(killedAt));
      // The job checkpoints every 50 rounds: the new incarnation restores the newest checkpoint
      // and recomputes only the rounds after it.
      assertTrue(
          restart.get("detail").asText().contains("at the checkpoint of round"), restart::toString);
      assertTrue(restart.get("redoneRounds").asLong() < roundAtKill, restart::toString);
      assertEquals(2, result.get("coordinatorEpochs").asLong());
      assertTrue(toNextRound < 30_000, "recovered in " + toNextRound + " ms");

      JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
      assertTrue(journal.exactlyOnce(6000), journal::toString);

      // What users feel: the gap in the journal's commit times across the kill, reported as
      // the restart's stall; the job's wall time counts both incarnations.
      long lastBefore = 0;
      long firstAfter = Long.MAX_VALUE;
      for (JournalRows.Row row :
          JournalRows.all(cluster.client(), cluster.database(), "coordinator-loss")) {
        if (row.event() instanceof dev.anvil.coordinator.JobJournal.RoundCommitted r) {
          if (r.epoch() == 1) {
            lastBefore = Math.max(lastBefore, r.epochMillis());
          } else {
            firstAfter = Math.min(firstAfter, r.epochMillis());
          }
        }
      }
      long gap = firstAfter - lastBefore;
      long stall = restart.get("stallMillis").asLong();
      System.out.printf(
          "journal gap %d ms, reported stall %d ms, detection %d ms%n",
          gap, stall, restart.get("detectMillis").asLong());
      assertTrue(
          Math.abs(stall - gap) <= 100,
          "stallMillis "
              + stall
              + " but the journal's"
              + " commit times have a gap of "
              + gap
              + " ms: "
              + restart);
      assertTrue(
          killedAt - lastBefore < 1000,
          "the last commit before the kill is " + (killedAt - lastBefore) + " ms before it");
      double wall = result.get("wallSeconds").asDouble();
      assertTrue(
          wall * 1000 > killedAt - submittedAt
              && wall * 1000 < System.currentTimeMillis() - submittedAt,
          "wallSeconds " + wall + " must count from the job's start, before the kill");
      assertEquals(2, journal.epochs(), journal::toString);
      assertTrue(journal.completed(), journal::toString);
    }
  }
}
