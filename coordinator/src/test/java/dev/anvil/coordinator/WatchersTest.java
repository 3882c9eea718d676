package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Paused;
import dev.anvil.coordinator.JobProtocol.Rejected;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Who hears about a job, and who is told alone that a request was refused. */
class WatchersTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  /** How long a probe is watched for a message that must not come. */
  private static final Duration QUIET = Duration.ofMillis(200);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyWatcherHearsEachUpdateOnce() {
    Watchers watchers = new Watchers();
    TestProbe<JobUpdate> a = testKit.createTestProbe();
    TestProbe<JobUpdate> b = testKit.createTestProbe();
    assertTrue(watchers.add(a.ref()));
    assertTrue(watchers.add(b.ref()));
    assertFalse(watchers.add(a.ref()), "a watcher added twice is one watcher");

    watchers.tell(new Paused("j", 7));

    a.expectMessage(new Paused("j", 7));
    b.expectMessage(new Paused("j", 7));
    a.expectNoMessage(QUIET);
  }

  @Test
  void aRefusedRequestIsToldToItsSenderAloneWhichIsForgotten() {
    Watchers watchers = new Watchers();
    TestProbe<JobUpdate> submitter = testKit.createTestProbe();
    TestProbe<JobUpdate> other = testKit.createTestProbe();
    watchers.add(submitter.ref());
    watchers.add(other.ref());

    watchers.refuse(submitter.ref(), "j", "workers = 0: must be a whole number > 0");
    submitter.expectMessage(new Rejected("j", "workers = 0: must be a whole number > 0"));
    other.expectNoMessage(QUIET);

    watchers.tell(new Paused("j", 1));
    other.expectMessage(new Paused("j", 1));
    submitter.expectNoMessage(QUIET);
    assertTrue(watchers.add(submitter.ref()), "it was forgotten");
  }

  @Test
  void aRefusalOfEveryoneTellsThemAllAndForgetsThem() {
    Watchers watchers = new Watchers();
    TestProbe<JobUpdate> a = testKit.createTestProbe();
    TestProbe<JobUpdate> b = testKit.createTestProbe();
    watchers.add(a.ref());
    watchers.add(b.ref());

    watchers.refuseAll("j", "job j already exists here");
    a.expectMessage(new Rejected("j", "job j already exists here"));
    b.expectMessage(new Rejected("j", "job j already exists here"));

    watchers.tell(new Paused("j", 1));
    a.expectNoMessage(QUIET);
    b.expectNoMessage(QUIET);
  }
}
