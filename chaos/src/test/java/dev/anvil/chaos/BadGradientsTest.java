package dev.anvil.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.chaos.agent.NodeFaults;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.InProcessFault;
import dev.anvil.chaos.junit.ChaosTest;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Workers returning bad gradients, through the JUnit 5 extension: one node's NaN, Inf and
 * wrong-length results are rejected and re-dispatched (the run ends with the reference hash);
 * every node's results bad fails the job after a bounded number of retries with a reason
 * that says so.
 */
@ChaosTest(nodes = 3)
class BadGradientsTest {
  static JobSpec spec(String name, long rounds) {
    return JobSpecParser.parse("""
        job {
          name = "%s", seed = 4
          model { type = mlp, layers = [16, 64, 4] }
          data { type = synthetic, samples = 8000, features = 16, classes = 4, seed = 2 }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          batch-size = 96, logical-shards = 12, rounds = %d, kernel = java
          checkpoint { every-rounds = 100, mode = snapshot }
        }
        """.formatted(name, rounds), name, null);
  }

  @Test
  void oneNodesBadResultsAreRejectedAndNeverApplied(ChaosCluster cluster) throws Exception {
    JobSpec spec = spec("bad-one-node", 2500);
    Reference reference = Reference.of(spec);
    List<String> heard = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    ChaosJob job = cluster.submit("bad-one-node", spec, 3, u -> {
      if (u instanceof dev.anvil.coordinator.JobProtocol.Recovered r) {
        heard.add(r.recovery().kind());
      }
    });
    job.awaitRound(200, Duration.ofSeconds(90));
    int victim = (cluster.indexOf(job.coordinator()) + 1) % cluster.size();
    for (String kind : List.of("nan", "inf", "wrong-length")) {
      InProcessFault bad = new InProcessFault(cluster, "bad-gradients", List.of(victim),
          NodeFaults.NONE.withBadGradients(kind, 1.0).withSeed(3));
      long at = job.round();
      assertTrue(cluster.inject(bad, at));
      job.awaitRound(at + 200, Duration.ofSeconds(60));
      assertTrue(cluster.heal(bad, job.round()));
    }
    Verdict v = cluster.verdict(job, reference, Duration.ofMinutes(3));
    assertEquals(Verdict.Validity.TRUE, v.valid(), v.problems()::toString);
    assertTrue(v.rejectedResults() > 0, v::toString);
    assertEquals(3, v.faults().get("bad-gradients").survived());
    assertTrue(heard.contains("bad-gradient"), heard::toString);  // watchers hear recoveries
  }

  @Test
  void everyNodesBadResultsFailTheJobWithAReason(ChaosCluster cluster) throws Exception {
    JobSpec spec = spec("bad-everywhere", 100_000);
    ChaosJob job = cluster.submit("bad-everywhere", spec, 3);
    job.awaitRound(100, Duration.ofSeconds(90));
    for (int n = 0; n < cluster.size(); n++) {
      cluster.applyFaults(n, NodeFaults.NONE.withBadGradients("nan", 1.0));
    }
    var outcome = job.awaitOutcome(Duration.ofSeconds(60));
    for (int n = 0; n < cluster.size(); n++) {
      cluster.applyFaults(n, NodeFaults.NONE);
    }
    assertTrue(outcome.ended(), outcome::toString);
    assertTrue(outcome.failure() != null && outcome.failure().contains("results rejected")
        && outcome.failure().contains("bad-results-per-round = 8")
        && outcome.failure().contains("gradient value NaN"), outcome::toString);
  }
}
