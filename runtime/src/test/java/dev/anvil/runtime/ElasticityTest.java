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
 * Five node JVMs, one worker each: two worker nodes are killed one after the other, then a new node
 * joins mid-job and its worker is taken in. Logical shards never change, so neither does the
 * result: the job ends with the fault-free hash and the journal holds every round once.
 */
class ElasticityTest {
  @TempDir Path dir;

  @Test
  void losingTwoOfFiveNodesAndGainingOneKeepsTheFaultFreeHash() throws Exception {
    JobSpec spec = TestJobs.faultJob("elastic", 12000);
    String reference = TestJobs.referenceHash(spec);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(5, 1, dir))) {
      FollowedJob job = FollowedJob.submit(cluster, "elastic", spec, 5);
      job.awaitRound(200, Duration.ofSeconds(120));
      int coordinator = cluster.addresses().indexOf(job.coordinator());
      int[] victims =
          java.util.stream.IntStream.range(0, 5).filter(i -> i != coordinator).limit(2).toArray();
      cluster.process(victims[0]).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      job.awaitRound(job.round() + 200, Duration.ofSeconds(60));
      cluster.process(victims[1]).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      job.awaitRound(job.round() + 200, Duration.ofSeconds(60));
      int joined = cluster.addNode();
      cluster.awaitNodesUp(4);
      long roundAtJoin = job.round();
      assertTrue(roundAtJoin < 10000, "the join must come before the end: round " + roundAtJoin);

      JsonNode result = job.awaitResult(Duration.ofSeconds(300));
      assertEquals(reference, result.get("paramsSha256").asText(), FaultChecks.anvilLogs(cluster));
      String logs = FaultChecks.anvilLogs(cluster);
      String joinedName = cluster.addresses().get(joined);
      assertTrue(
          logs.contains(joinedName + "/worker-0 joins from round"),
          () -> "the new node's worker never joined the job:\n" + logs);
      assertEquals(
          2,
          FaultChecks.recoveries(result, "node-unreachable").size()
              + FaultChecks.recoveries(result, "node-downed").size(),
          result::toPrettyString);
      JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
      assertTrue(journal.exactlyOnce(12000), journal::toString);
      System.out.println("elasticity: " + journal + "; recoveries " + result.get("recoveries"));
    }
  }
}
