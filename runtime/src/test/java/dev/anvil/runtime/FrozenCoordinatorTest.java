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
 * Freezes the coordinator's node with SIGSTOP for 15 s, well past the failure detector, then thaws
 * it with SIGCONT. Meanwhile the cluster downs it and a new coordinator incarnation takes the job
 * over. The thawed node runs its timers and queued messages before it learns it was downed (a
 * zombie): its dispatches carry an old epoch, which workers ignore, and its journal writes must
 * fail. The job ends with the fault-free hash, every round in the journal exactly once, and no
 * single-writer violation.
 */
class FrozenCoordinatorTest {
  @TempDir Path dir;

  @Test
  void aCoordinatorFrozenPastTheFailureDetectorIsFencedOff() throws Exception {
    JobSpec spec = TestJobs.faultJob("frozen", 6000);
    String reference = TestJobs.referenceHash(spec);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(3, 1, dir))) {
      FollowedJob job = FollowedJob.submit(cluster, "frozen", spec, 3);
      job.awaitRound(300, Duration.ofSeconds(90));
      int frozen = cluster.addresses().indexOf(job.coordinator());
      cluster.pause(frozen);
      long roundAtFreeze = job.round();
      assertTrue(
          roundAtFreeze < 4000, "the freeze must come well before the end: round " + roundAtFreeze);
      // The node stays frozen for 15 s of wall-clock time: the fault being injected.
      TimeUnit.SECONDS.sleep(15);
      cluster.resume(frozen);

      JsonNode result = job.awaitResult(Duration.ofSeconds(240));
      assertEquals(reference, result.get("paramsSha256").asText(), FaultChecks.anvilLogs(cluster));
      JournalCheck.Report journal = FaultChecks.journal(cluster, job.id());
      System.out.println("frozen coordinator: " + journal + "; coordinators " + job.coordinators());
      assertTrue(journal.exactlyOnce(6000), journal::toString);
      assertEquals(0, journal.singleWriterViolations());
      assertTrue(journal.epochs() >= 2, journal::toString);
      // Downed while frozen, the thawed node must leave rather than linger as a zombie.
      assertTrue(
          cluster.process(frozen).waitFor(60, TimeUnit.SECONDS), "the thawed node did not exit");
    }
  }
}
