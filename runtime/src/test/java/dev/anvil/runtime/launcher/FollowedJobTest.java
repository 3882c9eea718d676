package dev.anvil.runtime.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.client.ClusterLostException;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.node.NodeSettings;
import dev.anvil.runtime.node.SingleNode;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link FollowedJob} promises its callers: the newest round and coordinator, waits that end
 * at their deadline or at once when following ends, and an ending that tells a failed job from a
 * lost cluster. The updates are handed in directly, then a real job on an in-process node is
 * followed to its end.
 */
class FollowedJobTest {
  private static final JobSpec SPEC = TestJobs.chaosJob("followed", 60);

  @TempDir Path dir;

  private final List<JobUpdate> heard = new CopyOnWriteArrayList<>();
  private final CompletableFuture<JobClient.Outcome> end = new CompletableFuture<>();

  private FollowedJob followed() {
    FollowedJob job = new FollowedJob("j", SPEC, 3, heard::add, () -> "\n(node logs)");
    job.follow(end);
    return job;
  }

  private static Accepted accepted(String node) {
    return new Accepted("j", 60, "mlp", 3, 3, node);
  }

  private static Progress progress(long round) {
    return new Progress("j", round, 60, 0.5, 100);
  }

  @Test
  void keepsTheNewestRoundAndEachMoveOfTheCoordinatorOnce() {
    FollowedJob job = followed();
    job.onUpdate(accepted("127.0.0.1:1"));
    job.onUpdate(progress(10));
    job.onUpdate(accepted("127.0.0.1:1"));
    job.onUpdate(accepted("127.0.0.1:2"));
    job.onUpdate(progress(7)); // replayed after a restore: not newer
    assertEquals(10, job.round());
    assertEquals("127.0.0.1:2", job.coordinator());
    assertEquals(List.of("127.0.0.1:1", "127.0.0.1:2"), job.coordinators());
    assertEquals(5, heard.size(), "the listener hears every update");
  }

  @Test
  void awaitRoundReturnsOnceTheRoundIsHeardFromAnotherThread() throws Exception {
    FollowedJob job = followed();
    Thread coordinator =
        new Thread(
            () -> {
              job.onUpdate(accepted("127.0.0.1:1"));
              job.onUpdate(progress(5));
            });
    coordinator.start();
    job.awaitRound(5, Duration.ofSeconds(30));
    assertEquals(5, job.round());
    coordinator.join();
  }

  @Test
  void awaitRoundFailsAtItsDeadlineNamingTheLastRoundAndTheLogs() {
    FollowedJob job = followed();
    job.onUpdate(accepted("127.0.0.1:1"));
    job.onUpdate(progress(3));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> job.awaitRound(10, Duration.ofMillis(200)));
    assertEquals(
        "job j: round 10 not committed within PT0.2S (last heard 3)\n(node logs)", e.getMessage());
  }

  @Test
  void awaitRoundFailsAtOnceWhenTheJobEnds() {
    FollowedJob job = followed();
    end.complete(new JobClient.Outcome("j", null, "no workers"));
    long start = System.nanoTime();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> job.awaitRound(10, Duration.ofMinutes(5)));
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
    assertTrue(e.getMessage().contains("(last heard 0, the job ended: no workers)"), e::getMessage);
  }

  @Test
  void aRoundConditionThatReadsTheClockIsTestedAgainWithoutUpdates() throws Exception {
    FollowedJob job = followed();
    long due = System.nanoTime() + Duration.ofMillis(300).toNanos();
    assertTrue(job.awaitRound(r -> System.nanoTime() >= due, Duration.ofSeconds(30)));
    assertFalse(job.awaitRound(r -> r > 0, Duration.ofMillis(100)));
  }

  @Test
  void aFinishedJobEndsWithItsResult() throws Exception {
    FollowedJob job = followed();
    end.complete(new JobClient.Outcome("j", "{\"paramsSha256\": \"ab\"}", null));
    FollowedJob.Ending ending = job.awaitEnding(Duration.ofSeconds(5));
    assertEquals(FollowedJob.Ending.Kind.FINISHED, ending.kind());
    assertEquals("ab", job.awaitResult(Duration.ofSeconds(5)).get("paramsSha256").asText());
    assertTrue(job.done());
  }

  @Test
  void aFailedJobEndsFailedAndHasNoResult() throws Exception {
    FollowedJob job = followed();
    end.complete(new JobClient.Outcome("j", null, "job.model.layers[0]: wrong"));
    FollowedJob.Ending ending = job.awaitEnding(Duration.ofSeconds(5));
    assertEquals(FollowedJob.Ending.Kind.FAILED, ending.kind());
    assertEquals("job.model.layers[0]: wrong", ending.reason());
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> job.awaitResult(Duration.ofSeconds(5)));
    assertEquals("job j failed: job.model.layers[0]: wrong\n(node logs)", e.getMessage());
  }

  @Test
  void aLostClusterAbandonsTheWaitAtOnce() throws Exception {
    FollowedJob job = followed();
    job.onUpdate(progress(4));
    end.completeExceptionally(new ClusterLostException("no node reachable for 10 s"));
    FollowedJob.Ending ending = job.awaitEnding(Duration.ofMinutes(5));
    assertEquals(FollowedJob.Ending.Kind.ABANDONED, ending.kind());
    assertEquals(
        "lost the cluster: no node reachable for 10 s (last round heard 4)", ending.reason());
  }

  @Test
  void noEndWithinTheDeadlineIsTimedOut() throws Exception {
    FollowedJob.Ending ending = followed().awaitEnding(Duration.ofMillis(200));
    assertEquals(FollowedJob.Ending.Kind.TIMED_OUT, ending.kind());
    assertEquals("no outcome within 0 s; last round heard 0", ending.reason());
  }

  @Test
  void theCallersReasonToGiveUpAbandonsTheWait() throws Exception {
    FollowedJob.Ending ending =
        followed().awaitEnding(Duration.ofMinutes(5), () -> "node 2 exited (code 137)");
    assertEquals(FollowedJob.Ending.Kind.ABANDONED, ending.kind());
    assertEquals("node 2 exited (code 137)", ending.reason());
  }

  @Test
  void theWaitsGoByTheNewestWatch() throws Exception {
    FollowedJob job = followed();
    CompletableFuture<JobClient.Outcome> again = new CompletableFuture<>();
    job.follow(again);
    again.complete(new JobClient.Outcome("j", "{}", null));
    assertEquals(FollowedJob.Ending.Kind.FINISHED, job.awaitEnding(Duration.ofSeconds(5)).kind());
  }

  @Test
  void followsARealJobOnAnInProcessNodeToItsReferenceHash() throws Exception {
    try (SingleNode anvil = SingleNode.start(dir, NodeSettings.builder().slots(2).httpOff())) {
      FollowedJob job = FollowedJob.submit(anvil.node().system(), "followed", SPEC, 2, heard::add);
      job.awaitRound(1, Duration.ofSeconds(60));
      assertEquals(1, job.coordinators().size(), job.coordinators()::toString);
      assertEquals(
          TestJobs.referenceHash(SPEC),
          job.awaitResult(Duration.ofSeconds(120)).get("paramsSha256").asText());
      assertTrue(heard.stream().anyMatch(u -> u instanceof Progress), heard::toString);
      assertTrue(job.done());
    }
  }
}
