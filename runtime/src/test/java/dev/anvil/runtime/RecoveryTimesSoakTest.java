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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recovery-time targets, as medians of 5 kills each (soak profile: about 10 minutes): SIGKILL
 * of a node hosting only a worker, next committed round within 1 s; SIGKILL of the coordinator's
 * node, within 12 s. Each killed node is replaced before the next run; every run must end with the
 * fault-free hash and a clean journal.
 */
@Tag("soak")
class RecoveryTimesSoakTest {
  private static final int RUNS = 5;

  @TempDir Path dir;

  @Test
  void medianRecoveryTimesMeetTheTargets() throws Exception {
    JobSpec spec = TestJobs.faultJob("soak", 4000);
    String reference = TestJobs.referenceHash(spec);
    List<Long> worker = new ArrayList<>();
    List<Long> coordinator = new ArrayList<>();
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(3, 1, dir))) {
      int n = 0;
      for (int run = 0; run < RUNS; run++) {
        for (boolean killCoordinator : new boolean[] {false, true}) {
          String jobId = "soak-" + (++n);
          FollowedJob job = FollowedJob.submit(cluster, jobId, spec, 3);
          job.awaitRound(300, Duration.ofSeconds(120));
          int hosting = cluster.addresses().indexOf(job.coordinator());
          int victim = -1;
          for (int i = 0; i < cluster.size() && victim < 0; i++) {
            if (cluster.process(i).isAlive() && (killCoordinator == (i == hosting))) {
              victim = i;
            }
          }
          long killedAt = System.currentTimeMillis();
          cluster.process(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          JsonNode result = job.awaitResult(Duration.ofSeconds(300));
          assertEquals(reference, result.get("paramsSha256").asText(), jobId);
          long next = Long.MAX_VALUE;
          for (JsonNode r : result.path("recoveries")) {
            long commit = r.path("firstCommitMillis").asLong();
            if (commit >= killedAt) {
              next = Math.min(next, commit - killedAt);
            }
          }
          assertTrue(
              next < Long.MAX_VALUE,
              () -> jobId + ": no recovery after the kill: " + result.get("recoveries"));
          (killCoordinator ? coordinator : worker).add(next);
          JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
          assertTrue(journal.exactlyOnce(4000), journal::toString);
          System.out.printf(
              "%s: %s node killed, next committed round after %d ms%n",
              jobId, killCoordinator ? "coordinator" : "worker", next);
          cluster.addNode();
          cluster.awaitNodesUp(3);
        }
      }
    }
    long workerMedian = median(worker);
    long coordinatorMedian = median(coordinator);
    System.out.printf(
        "medians of %d: worker node %d ms %s, coordinator node %d ms %s%n",
        RUNS, workerMedian, worker, coordinatorMedian, coordinator);
    assertTrue(workerMedian <= 1000, "worker-node kill median " + workerMedian + " ms " + worker);
    assertTrue(
        coordinatorMedian <= 12000,
        "coordinator-node kill median " + coordinatorMedian + " ms " + coordinator);
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }
}
