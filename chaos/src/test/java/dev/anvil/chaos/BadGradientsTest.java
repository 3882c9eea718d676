package dev.anvil.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.chaos.agent.NodeFaults;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.InProcessFault;
import dev.anvil.chaos.junit.ChaosTest;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.testsupport.TestJobs;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Workers returning bad gradients, through the JUnit 5 extension: one node's NaN, Inf and
 * wrong-length results are rejected and re-dispatched (the run ends with the reference hash); every
 * node's results bad fails the job after a bounded number of retries with a reason that says so.
 */
@ChaosTest(nodes = 3)
class BadGradientsTest {
  @Test
  void oneNodesBadResultsAreRejectedAndNeverApplied(ChaosCluster cluster) throws Exception {
    JobSpec spec = TestJobs.chaosJob("bad-one-node", 2500);
    Reference reference = Reference.of(spec);
    List<String> heard = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    FollowedJob job =
        cluster.submit(
            "bad-one-node",
            spec,
            3,
            u -> {
              if (u instanceof dev.anvil.coordinator.JobProtocol.Recovered r) {
                heard.add(r.recovery().kind());
              }
            });
    job.awaitRound(200, Duration.ofSeconds(90));
    int victim = (cluster.indexOf(job.coordinator()) + 1) % cluster.size();
    for (String kind : List.of("nan", "inf", "wrong-length")) {
      InProcessFault bad =
          new InProcessFault(
              cluster,
              "bad-gradients",
              List.of(victim),
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
    assertTrue(heard.contains("bad-gradient"), heard::toString); // watchers hear recoveries
  }

  @Test
  void everyNodesBadResultsFailTheJobWithAReason(ChaosCluster cluster) throws Exception {
    JobSpec spec = TestJobs.chaosJob("bad-everywhere", 100_000);
    FollowedJob job = cluster.submit("bad-everywhere", spec, 3);
    job.awaitRound(100, Duration.ofSeconds(90));
    for (int n = 0; n < cluster.size(); n++) {
      cluster.applyFaults(n, NodeFaults.NONE.withBadGradients("nan", 1.0));
    }
    var outcome = ChaosCluster.outcome(job, Duration.ofSeconds(60));
    for (int n = 0; n < cluster.size(); n++) {
      cluster.applyFaults(n, NodeFaults.NONE);
    }
    assertTrue(outcome.ended(), outcome::toString);
    assertTrue(
        outcome.failure() != null
            && outcome.failure().contains("results rejected")
            && outcome.failure().contains("bad-results-per-round = 8")
            && outcome.failure().contains("gradient value NaN"),
        outcome::toString);
  }
}
