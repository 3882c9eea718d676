package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.coordinator.JobProtocol;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stops the journal's (embedded) PostgreSQL for 10 s in the middle of a job, then starts it again.
 * The coordinator must report the job degraded, report no round committed while the database is
 * down, retry, and finish with the fault-free hash and rounds 1..N in the journal exactly once; the
 * outage is listed among the recoveries in result.json.
 */
class JournalOutageTest {
  @TempDir Path dir;

  @Test
  void aTenSecondDatabaseOutageDelaysTheJobButChangesNothing() throws Exception {
    JobSpec spec =
        TestJobs.faultJob("outage", 5000, "job.seed = 4", "job.checkpoint.every-rounds = 100");
    String reference = TestJobs.referenceHash(spec);
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(2, 1, dir))) {
      CountDownLatch degraded = new CountDownLatch(1);
      AtomicLong down = new AtomicLong();
      List<Long> reportedWhileDown = new ArrayList<>();
      FollowedJob job =
          FollowedJob.submit(
              cluster.client(),
              "outage",
              spec,
              2,
              u -> {
                if (u instanceof JobProtocol.Progress p && down.get() == 1) {
                  synchronized (reportedWhileDown) {
                    reportedWhileDown.add(p.round());
                  }
                } else if (u instanceof JobProtocol.Degraded) {
                  degraded.countDown();
                }
              });
      job.awaitRound(300, Duration.ofSeconds(90));
      cluster.stopDatabase();
      long stoppedAt = System.nanoTime();
      down.set(1);
      assertTrue(degraded.await(10, TimeUnit.SECONDS), "the job reports itself degraded");
      // The outage lasts 10 s; this sleep is the fault, not a synchronization.
      TimeUnit.NANOSECONDS.sleep(
          Math.max(0, TimeUnit.SECONDS.toNanos(10) - (System.nanoTime() - stoppedAt)));
      down.set(2);
      cluster.startDatabase();
      assertFalse(job.done(), "the job waits for the journal, it does not fail");

      JsonNode result = job.awaitResult(Duration.ofSeconds(180));
      assertEquals(reference, result.get("paramsSha256").asText());
      synchronized (reportedWhileDown) {
        assertTrue(
            reportedWhileDown.size() <= 1,
            "at most a write already acknowledged when"
                + " the database stopped is reported while it is down: "
                + reportedWhileDown);
      }
      // One outage; a stale pooled connection failing once more right after it may add a short
      // second episode. Nothing else happened to the job.
      int outages = FaultChecks.recoveries(result, "journal-outage").size();
      assertTrue(outages >= 1 && outages <= 2, result::toPrettyString);
      assertEquals(outages, result.get("recoveries").size(), result::toPrettyString);
      JournalCheck.Report journal = FaultChecks.journal(cluster, "outage");
      assertTrue(journal.exactlyOnce(5000), journal.toString());
    }
  }
}
