package dev.anvil.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.chaos.agent.NodeFaults;
import dev.anvil.chaos.check.Checker;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.InProcessFault;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.junit.ChaosTest;
import dev.anvil.coordinator.JobJournal;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.persistence.JournalTable;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.testsupport.TestJobs;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checker is not a rubber stamp: real runs on a real cluster, each broken on purpose, and the
 * checker says false. A worker that silently corrupts its gradients (one low bit of one finite
 * value: nothing the coordinator can detect) ends with a hash other than the reference's; a journal
 * that lost a round (a coordinator that skipped journaling it, simulated by deleting the row) shows
 * the lost round.
 */
@ChaosTest(nodes = 3)
class CheckerCanFailTest {
  @Test
  void silentlyCorruptedGradientsAreCaughtByTheHash(ChaosCluster cluster) throws Exception {
    JobSpec spec = TestJobs.chaosJob("silent-corruption", 1500);
    Reference reference = Reference.of(spec);
    FollowedJob job = cluster.submit("silent-corruption", spec, 3);
    job.awaitRound(200, Duration.ofSeconds(90));
    int victim = (cluster.indexOf(job.coordinator()) + 1) % cluster.size();
    // Every result of the victim for 300 rounds: one flipped low bit is often rounded away in
    // the sum or the update (a flipped 0 becomes a denormal that vanishes), so a few flips
    // can leave the parameters bitwise unchanged, which the checker then rightly calls TRUE.
    InProcessFault flip =
        new InProcessFault(
            cluster,
            "bad-gradients",
            List.of(victim),
            NodeFaults.NONE.withBadGradients("flip", 1.0).withSeed(5));
    assertTrue(cluster.inject(flip, job.round()));
    job.awaitRound(job.round() + 300, Duration.ofSeconds(90));
    assertTrue(cluster.heal(flip, job.round()));
    Verdict v = cluster.verdict(job, reference, Duration.ofMinutes(3));
    assertEquals(Verdict.Validity.FALSE, v.valid(), v::toString);
    assertTrue(
        v.problems().get(0).contains("differs from the fault-free reference"),
        v.problems()::toString);
    assertEquals(0, v.rejectedResults()); // finite, right length: the coordinator took them
    assertEquals(0, v.lost());
  }

  @Test
  void aRoundMissingFromTheJournalIsCaught(ChaosCluster cluster) throws Exception {
    JobSpec spec = TestJobs.chaosJob("skipped-round", 600);
    Reference reference = Reference.of(spec);
    FollowedJob job = cluster.submit("skipped-round", spec, 3);
    Checker.Outcome outcome = ChaosCluster.outcome(job, Duration.ofMinutes(3));
    assertEquals(Verdict.Validity.TRUE, cluster.verdict(job, reference, outcome).valid());

    History.Commit victim = cluster.history().commits().get(300);
    try (Connection c = cluster.local().database().connect();
        PreparedStatement delete =
            c.prepareStatement(
                "DELETE FROM "
                    + JournalTable.name(cluster.local().client().settings().config())
                    + " WHERE persistence_id = ? AND sequence_number = ?")) {
      delete.setString(1, JobJournal.persistenceId("skipped-round").id());
      delete.setLong(2, victim.sequence());
      assertEquals(1, delete.executeUpdate());
    }
    Verdict v = cluster.verdict(job, reference, outcome);
    assertEquals(Verdict.Validity.FALSE, v.valid(), v::toString);
    assertEquals(1, v.lost());
    assertTrue(v.problems().contains("1 rounds lost (not in the journal)"), v.problems()::toString);
  }
}
