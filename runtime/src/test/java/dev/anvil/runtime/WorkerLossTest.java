package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills with SIGKILL ({@code destroyForcibly}) a node JVM that hosts one of a job's three workers
 * but not its coordinator, once at least 100 rounds are committed. The coordinator must hand the
 * lost worker's shards to the survivors without waiting for the node to be downed, and the job
 * must end with the fault-free (reference) hash.
 */
class WorkerLossTest {
  @TempDir
  Path dir;

  @Test
  void killingAWorkerNodeMidJobKeepsTheFaultFreeHash() throws Exception {
    JobSpec spec = JobSpecParser.parse("""
        job {
          name = "loss", seed = 9
          model { type = mlp, layers = [24, 64, 4] }
          data { type = synthetic, samples = 6000, features = 24, classes = 4, seed = 3 }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          batch-size = 96, logical-shards = 12, rounds = 1500, kernel = java
        }
        """, "loss", null);
    String reference = DistributedTrainingTest.referenceHash(spec);
    try (LocalCluster cluster = LocalCluster.start(LocalCluster.Settings.of(3, 1, dir))) {
      AtomicReference<String> coordinator = new AtomicReference<>();
      CountDownLatch progressed = new CountDownLatch(1);
      var outcome = JobClient.submit(cluster.client(), "loss", spec, 3, u -> {
        if (u instanceof Accepted a) {
          coordinator.set(a.coordinator());
        } else if (u instanceof Progress p && p.round() >= 100) {
          progressed.countDown();
        }
      });
      assertTrue(progressed.await(90, TimeUnit.SECONDS), "100 rounds committed");
      assertNotNull(coordinator.get());
      assertTrue(cluster.addresses().contains(coordinator.get()), coordinator.get());
      int victim = cluster.addresses().indexOf(coordinator.get()) == 0 ? 1 : 0;
      assertTrue(!cluster.addresses().get(victim).equals(coordinator.get()));
      cluster.process(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);

      JobClient.Outcome o;
      try {
        o = outcome.toCompletableFuture().get(180, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("the job did not finish after the kill; coordinator node log:\n"
            + cluster.tail(cluster.addresses().indexOf(coordinator.get()), 40), e);
      }
      assertTrue(o.succeeded(), () -> "job failed: " + o.failure());
      assertEquals(reference, new ObjectMapper().readTree(o.resultJson()).get("paramsSha256")
          .asText());
      String coordinatorLog = cluster.tail(cluster.addresses().indexOf(coordinator.get()), 400);
      assertTrue(coordinatorLog.contains("127.0.0.1:" + cluster.addresses().get(victim)
          .split(":")[1] + " unreachable in round"), coordinatorLog);
      assertTrue(coordinatorLog.contains("2 workers left"), coordinatorLog);
    }
  }
}
