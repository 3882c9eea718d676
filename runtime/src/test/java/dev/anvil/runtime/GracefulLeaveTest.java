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
 * A node hosting one of the job's workers (not its coordinator) leaves the cluster gracefully
 * mid-job. Its worker finishes the work it has; the others take over from the next round. None of
 * its work is re-dispatched, no round is redone, and the result keeps the fault-free hash.
 */
class GracefulLeaveTest {
  @TempDir Path dir;

  @Test
  void aLeavingNodeHandsItsWorkOverWithoutRecomputation() throws Exception {
    JobSpec spec = TestJobs.faultJob("leave", 4000);
    String reference = TestJobs.referenceHash(spec);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(3, 1, dir))) {
      FollowedJob job = FollowedJob.submit(cluster, "leave", spec, 3);
      job.awaitRound(300, Duration.ofSeconds(90));
      int leaving = cluster.addresses().indexOf(job.coordinator()) == 0 ? 1 : 0;
      cluster.leave(leaving);
      assertTrue(cluster.process(leaving).waitFor(60, TimeUnit.SECONDS), "the node did not exit");
      assertTrue(job.round() < 3500, "the leave must come before the end");

      JsonNode result = job.awaitResult(Duration.ofSeconds(180));
      assertEquals(reference, result.get("paramsSha256").asText(), FaultChecks.anvilLogs(cluster));
      assertEquals(1, FaultChecks.recoveries(result, "node-left").size(), result::toPrettyString);
      assertEquals(
          0,
          FaultChecks.recoveries(result, "node-left").get(0).get("treeNodesRedispatched").asLong(),
          result::toPrettyString);
      assertEquals(
          0, FaultChecks.recoveries(result, "node-unreachable").size(), result::toPrettyString);
      // Nothing of the leaving node's was re-dispatched: no deadline names its worker. (A
      // deadline of a remaining worker, a straggler on this busy machine, is another matter.)
      String leavingWorker = cluster.addresses().get(leaving) + "/worker-0";
      FaultChecks.recoveries(result, "deadline")
          .forEach(
              r ->
                  assertTrue(
                      !r.get("detail").asText().contains(leavingWorker), result::toPrettyString));
      JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
      assertTrue(journal.exactlyOnce(4000), journal::toString);
      assertEquals(1, journal.epochs());
    }
  }
}
