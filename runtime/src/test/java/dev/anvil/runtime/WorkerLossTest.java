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
 * lost worker's shards to the survivors at the round's deadline, without waiting for the failure
 * detector or for the node to be downed, and the job must end with the fault-free (reference)
 * hash. The time from the kill to the next committed round is printed.
 */
class WorkerLossTest {
  @TempDir
  Path dir;

  /** Anvil's own lines of node {@code index}'s log. */
  private static String anvilLines(LocalCluster cluster, int index) {
    return String.join("\n", cluster.tail(index, 5000).lines()
        .filter(l -> l.contains(" d.a.") || l.contains("dev.anvil")).toList());
  }

  @Test
  void killingAWorkerNodeMidJobKeepsTheFaultFreeHash() throws Exception {
    JobSpec spec = JobSpecParser.parse("""
        job {
          name = "loss", seed = 9
          model { type = mlp, layers = [24, 256, 4] }
          data { type = synthetic, samples = 6000, features = 24, classes = 4, seed = 3 }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          batch-size = 96, logical-shards = 12, rounds = 4000, kernel = java
        }
        """, "loss", null);
    String reference = DistributedTrainingTest.referenceHash(spec);
    // No launcher downing: the path of nodes on hosts without one (detection, then the
    // split-brain resolver).
    try (LocalCluster cluster = LocalCluster.start(LocalCluster.Settings.of(3, 1, dir)
        .withDownExitedNodes(false))) {
      AtomicReference<String> coordinator = new AtomicReference<>();
      CountDownLatch progressed = new CountDownLatch(1);
      java.util.concurrent.atomic.AtomicLong killedAt = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.atomic.AtomicLong roundAtKill = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.atomic.AtomicLong lastRound = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.atomic.AtomicLong recoveredAfter =
          new java.util.concurrent.atomic.AtomicLong(-1);
      var outcome = JobClient.submit(cluster.client(), "loss", spec, 3, u -> {
        if (u instanceof Accepted a) {
          coordinator.set(a.coordinator());
        } else if (u instanceof Progress p) {
          lastRound.set(p.round());
          if (p.round() >= 100) {
            progressed.countDown();
          }
          if (killedAt.get() > 0 && recoveredAfter.get() < 0 && p.round() > roundAtKill.get()) {
            recoveredAfter.set(System.nanoTime() - killedAt.get());
          }
        }
      });
      assertTrue(progressed.await(90, TimeUnit.SECONDS), "100 rounds committed");
      assertNotNull(coordinator.get());
      assertTrue(cluster.addresses().contains(coordinator.get()), coordinator.get());
      int victim = cluster.addresses().indexOf(coordinator.get()) == 0 ? 1 : 0;
      assertTrue(!cluster.addresses().get(victim).equals(coordinator.get()));
      cluster.process(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      roundAtKill.set(lastRound.get() + 1);  // a round in flight at the kill may still land
      assertTrue(lastRound.get() < 3000, "the kill must come well before the end: round "
          + lastRound.get() + " of 4000 was already committed");
      killedAt.set(System.nanoTime());

      JobClient.Outcome o;
      try {
        o = outcome.toCompletableFuture().get(180, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("the job did not finish after the kill; coordinator node log:\n"
            + cluster.tail(cluster.addresses().indexOf(coordinator.get()), 40), e);
      }
      assertTrue(o.succeeded(), () -> "job failed: " + o.failure());
      var result = new ObjectMapper().readTree(o.resultJson());
      assertEquals(reference, result.get("paramsSha256").asText());
      // The recoveries in result.json: the deadline's (at once), later the failure detector's;
      // none redoes a committed round.
      assertTrue(JobWatch.recoveries(result, "deadline").size() >= 1, result::toPrettyString);
      result.path("recoveries").forEach(r -> assertEquals(0, r.get("redoneRounds").asLong()));
      JournalCheck.Report journal = JournalCheck.check(cluster.client(), cluster.database(),
          "loss");
      assertTrue(journal.exactlyOnce(4000), journal::toString);
      assertEquals(1, journal.epochs(), journal::toString);
      String coordinatorLog = anvilLines(cluster, cluster.addresses().indexOf(coordinator.get()));
      System.out.printf("worker node killed: next committed round after %.0f ms%n",
          recoveredAfter.get() / 1e6);
      // The deadline, not the failure detector (seconds), moved the lost worker's shards.
      assertTrue(coordinatorLog.contains("late past its deadline"),
          () -> "no deadline re-dispatch in the coordinator's log (" + coordinator.get()
              + "):\n" + coordinatorLog + "\nother nodes:\n" + anvilLines(cluster, 0)
              + "\n" + anvilLines(cluster, 1) + "\n" + anvilLines(cluster, 2));
    }
  }
}
