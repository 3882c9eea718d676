package dev.anvil.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.JobCancelled;
import dev.anvil.coordinator.JobJournal.JobCompleted;
import dev.anvil.coordinator.JobJournal.JobFailed;
import dev.anvil.coordinator.JobJournal.JobPaused;
import dev.anvil.coordinator.JobJournal.JobResumed;
import dev.anvil.coordinator.JobJournal.RecoveryRecorded;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.core.train.Recovery;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A job's status as its newest journal events (newest first) show it, without a database. */
class JobRecordsTest {
  static RoundCommitted round(long r) {
    return new RoundCommitted(r, 1.0 / r, 60, 1000 + r, 1);
  }

  @Test
  void aJobWithRoundsRunsAndShowsItsNewestRoundsOldestFirst() {
    JobRecords.Status s =
        JobRecords.status(
            "j",
            List.of(round(3), round(2), round(2), round(1), new CoordinatorStarted(1, "n", 5, 1)),
            2);
    assertEquals("running", s.state());
    assertEquals(3, s.lastRound());
    assertEquals(
        List.of(new JobRecords.Round(2, 0.5, 1002), new JobRecords.Round(3, 1.0 / 3, 1003)),
        s.recent());
    assertNull(s.resultJson());
    assertNull(s.failure());
  }

  @Test
  void anEndIsFinalEvenWithRoundsRecordedAfterIt() {
    JobRecords.Status done =
        JobRecords.status(
            "j", List.<Event>of(round(5), new JobCompleted("{\"r\": 1}", 1), round(4)), 10);
    assertEquals("finished", done.state());
    assertEquals("{\"r\": 1}", done.resultJson());
    assertEquals(5, done.lastRound());
    JobRecords.Status cancelled =
        JobRecords.status(
            "j", List.<Event>of(new JobCancelled("stop", 1), new JobPaused(1, 1), round(1)), 10);
    assertEquals(List.of("cancelled", "stop"), List.of(cancelled.state(), cancelled.failure()));
    JobRecords.Status failed = JobRecords.status("j", List.<Event>of(new JobFailed("bad", 1)), 10);
    assertEquals(List.of("failed", "bad"), List.of(failed.state(), failed.failure()));
  }

  @Test
  void theNewestPauseResumeOrRoundSaysWhetherItRuns() {
    assertEquals(
        "paused",
        JobRecords.status("j", List.<Event>of(new JobPaused(2, 1), round(2)), 10).state());
    assertEquals(
        "running",
        JobRecords.status(
                "j", List.<Event>of(new JobResumed("c", 9, 1), new JobPaused(2, 1), round(2)), 10)
            .state());
    assertEquals(
        "starting",
        JobRecords.status("j", List.<Event>of(new CoordinatorStarted(1, "n", 5, 1)), 10).state());
  }

  @Test
  void recoveriesAreListedOldestFirst() {
    Recovery first = new Recovery("worker-lost", "a", 1, 2, 3, 4, 5, 0, 0, 0);
    Recovery second = new Recovery("coordinator-moved", "b", 6, 7, 8, 9, 10, 1, 0, 0);
    assertEquals(
        List.of(first, second),
        JobRecords.status(
                "j",
                List.<Event>of(
                    new RecoveryRecorded(second, 2), round(1), new RecoveryRecorded(first, 1)),
                10)
            .recoveries());
  }
}
