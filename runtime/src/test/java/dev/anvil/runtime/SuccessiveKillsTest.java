package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sequence that hung {@code anvil demo}: on 3 node JVMs, SIGKILL of a node that hosts only
 * workers, its restart, and SIGKILL of the coordinator's node as soon as the launcher says the
 * first node is back. What must hold: the restarted node is a member again (a new incarnation)
 * before the launcher says so, its worker rejoins the running job, the second kill leaves a
 * majority (2 of 3 nodes), and the job ends with the fault-free hash, rounds recorded exactly once,
 * and as many workers as it started with.
 */
class SuccessiveKillsTest {
  @TempDir Path dir;

  @Test
  void restartedNodeRejoinsAndTheCoordinatorsNodeCanBeKilledRightAfter() throws Exception {
    JobSpec spec = TestJobs.faultJob("successive-kills", 6000);
    String reference = TestJobs.referenceHash(spec);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(3, 1, dir))) {
      FollowedJob job = FollowedJob.submit(cluster, "successive-kills", spec, 3);
      job.awaitRound(300, Duration.ofSeconds(90));
      int coordinator = cluster.addresses().indexOf(job.coordinator());
      int worker = (coordinator + 1) % 3;

      cluster.kill(worker);
      cluster.restart(worker);
      cluster.awaitNodesUp(3);
      assertTrue(
          cluster.alive(worker),
          "node " + (worker + 1) + " exited after its restart:\n" + cluster.tail(worker, 30));
      long roundAtSecondKill = job.round();
      cluster.kill(coordinator);

      JsonNode result = job.awaitResult(Duration.ofSeconds(240));
      assertEquals(reference, result.get("paramsSha256").asText(), FaultChecks.anvilLogs(cluster));
      assertTrue(
          roundAtSecondKill < 5000,
          "the second kill must come well before the end:" + " round " + roundAtSecondKill);
      List<JsonNode> rejoined = FaultChecks.recoveries(result, "node-rejoined");
      assertFalse(
          rejoined.isEmpty(),
          () ->
              "no node-rejoined recovery: "
                  + result.get("recoveries").toPrettyString()
                  + "\n"
                  + FaultChecks.anvilLogs(cluster));
      assertTrue(
          rejoined.get(0).get("detail").asText().contains(cluster.addresses().get(worker)),
          rejoined.get(0)::toString);
      assertTrue(
          cluster.alive(worker), "node " + (worker + 1) + " exited:\n" + cluster.tail(worker, 30));
      JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
      assertTrue(journal.exactlyOnce(6000), journal::toString);
    }
  }
}
