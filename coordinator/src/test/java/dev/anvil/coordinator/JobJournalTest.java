package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.ConfigFactory;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.coordinator.JournalCommands.Ack;
import java.util.List;
import java.util.Set;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The journal recorder, with serialization of every event and state checked on. */
class JobJournalTest {
  static final org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit testKit =
      org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit.create(
          EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));

  EventSourcedBehaviorTestKit<JobJournal.Command, JobJournal.Event, JournalState> journal;

  @BeforeEach
  void start() {
    journal =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            JobJournal.create("j1"),
            EventSourcedBehaviorTestKit.disabledSerializationSettings()
                .withVerifyEvents(true)
                .withVerifyCommands(false)
                .withVerifyState(false));
    journal.clear();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static RoundCommitted round(long r) {
    return new RoundCommitted(r, 0.5, 64, 1000 + r, 1);
  }

  private long startEpoch() {
    return journal
        .<Ack>runCommand(replyTo -> new JobJournal.StartEpoch("node", replyTo))
        .reply()
        .epoch();
  }

  @Test
  void roundsAreRecordedOnceInOrder() {
    startEpoch();
    CommandResultWithReply<JobJournal.Command, JobJournal.Event, JournalState, Ack> first =
        journal.<Ack>runCommand(
            replyTo -> new JobJournal.RecordRounds(List.of(round(1), round(2), round(3)), replyTo));
    assertEquals(3, first.reply().lastRound());
    assertEquals(3, first.events().size());

    var again =
        journal.<Ack>runCommand(
            replyTo -> new JobJournal.RecordRounds(List.of(round(2), round(3), round(4)), replyTo));
    assertEquals(List.of(round(4)), again.events(), "rounds 2 and 3 are not written twice");
    assertEquals(4, again.reply().lastRound());
    assertEquals(4, again.state().lastRound());
  }

  @Test
  void aRoundThatSkipsAheadIsNotRecorded() {
    startEpoch();
    var result =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(List.of(round(2)), replyTo));
    assertEquals(0, result.events().size());
    assertEquals(0, result.reply().lastRound());
  }

  @Test
  void everyIncarnationRecordsTheNextEpochAndStampsItsEvents() {
    assertEquals(1, startEpoch());
    assertEquals(1, startEpoch(), "asking again is idempotent within an incarnation");
    var rounds =
        journal.<Ack>runCommand(
            replyTo ->
                new JobJournal.RecordRounds(
                    List.of(new RoundCommitted(1, 0.5, 64, 1001, 0)), replyTo));
    assertEquals(List.of(round(1)), rounds.events(), "the journal stamps its own epoch");

    journal.restart();
    assertEquals(1, startEpoch(), "a restart of the same incarnation keeps its epoch");
    assertEquals(
        List.of(),
        journal
            .<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(List.of(round(1)), replyTo))
            .events(),
        "round 1 is not written again");
  }

  @Test
  void aSupersededIncarnationWritesNothingOnceItKnows() {
    startEpoch();
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(List.of(round(1)), replyTo));
    // A newer incarnation elsewhere started epoch 2; this one learns it when it replays (as a
    // failed write makes it do).
    journal
        .persistenceTestKit()
        .persistForRecovery(
            JobJournal.persistenceId("j1").id(),
            List.of(new JobJournal.CoordinatorStarted(2, "other", 2000, 0)));
    journal.restart();
    assertEquals(2, journal.getState().epoch());
    var refused =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(List.of(round(2)), replyTo));
    assertEquals(JobJournal.Recorded.SUPERSEDED, refused.reply().what());
    assertEquals(2, refused.reply().epoch());
    assertEquals(List.of(), refused.events());
    var done = journal.<Ack>runCommand(replyTo -> new JobJournal.RecordCompleted("{}", replyTo));
    assertEquals(JobJournal.Recorded.SUPERSEDED, done.reply().what());
    assertEquals(List.of(), done.events());
  }

  @Test
  void stateSurvivesARestart() {
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 3, replyTo));
    startEpoch();
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(List.of(round(1)), replyTo));
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordCompleted("{}", replyTo));
    journal.restart();
    JournalState s = journal.getState();
    assertEquals("job { }", s.spec());
    assertEquals(3, s.workers());
    assertEquals(1, s.lastRound());
    assertEquals(1, s.epoch());
    assertEquals(0.5, s.lastLoss());
    assertEquals("{}", s.result());
  }

  @Test
  void aSubmissionSentAgainIsAcknowledgedAndNotWrittenTwice() {
    var first =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 3, replyTo));
    assertEquals(List.of(new JobJournal.JobSubmitted("job { }", 3)), first.events());
    startEpoch();
    var again =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 3, replyTo));
    assertEquals(JobJournal.Recorded.SUBMITTED, again.reply().what());
    assertEquals(List.of(), again.events());
    assertEquals("job { }", again.state().spec());
  }

  @Test
  void aFailureSentAgainIsWrittenOnce() {
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 3, replyTo));
    startEpoch();
    var failed =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordFailed("diverged", replyTo));
    assertEquals(List.of(new JobJournal.JobFailed("diverged", 1)), failed.events());
    var again =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordFailed("diverged", replyTo));
    assertEquals(JobJournal.Recorded.FAILED, again.reply().what());
    assertEquals(List.of(), again.events());
  }

  @Test
  void aFailureAfterTheJobCompletedIsNotWritten() {
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 3, replyTo));
    startEpoch();
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordCompleted("{}", replyTo));
    var late = journal.<Ack>runCommand(replyTo -> new JobJournal.RecordFailed("late", replyTo));
    assertEquals(JobJournal.Recorded.FAILED, late.reply().what());
    assertEquals(List.of(), late.events(), "the first outcome stands");
    assertNull(late.state().failure());
    assertEquals("{}", late.state().result());
  }

  private static JobJournal.CheckpointCommitted checkpoint(long round) {
    return new JobJournal.CheckpointCommitted(
        round, "postgres:anvil_checkpoint/j1/" + round, "ab", 100, 0);
  }

  @Test
  void aCheckpointIsRecordedOnlyForADurableRoundAndInOrder() {
    startEpoch();
    journal.<Ack>runCommand(
        replyTo -> new JobJournal.RecordRounds(List.of(round(1), round(2)), replyTo));
    var ahead =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordCheckpoint(checkpoint(3), replyTo));
    assertEquals(List.of(), ahead.events(), "round 3 is not durable");
    var ok =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordCheckpoint(checkpoint(2), replyTo));
    assertEquals(
        List.of(
            new JobJournal.CheckpointCommitted(2, "postgres:anvil_checkpoint/j1/2", "ab", 100, 1)),
        ok.events(),
        "stamped with the epoch");
    var older =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordCheckpoint(checkpoint(1), replyTo));
    assertEquals(List.of(), older.events(), "not older than the newest");
    journal.restart();
    assertEquals(2, journal.getState().newestCheckpoint().round());
  }

  @Test
  void pauseResumeAndCancelAreRecordedOnce() {
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 2, replyTo));
    startEpoch();
    var paused = journal.<Ack>runCommand(replyTo -> new JobJournal.RecordPaused(0, replyTo));
    assertEquals(1, paused.events().size());
    assertEquals(true, paused.state().paused());
    assertEquals(
        0,
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordPaused(0, replyTo)).events().size(),
        "already paused");
    var resumed = journal.<Ack>runCommand(replyTo -> new JobJournal.RecordResumed("me", replyTo));
    assertEquals(false, resumed.state().paused());
    var cancelled =
        journal.<Ack>runCommand(
            replyTo -> new JobJournal.RecordCancelled("cancelled: test", replyTo));
    assertEquals("cancelled: test", cancelled.state().failure());
    assertEquals(
        0,
        journal
            .<Ack>runCommand(replyTo -> new JobJournal.RecordCancelled("again", replyTo))
            .events()
            .size(),
        "a finished job is not cancelled again");
  }

  @Test
  void anImportStartsAtItsRoundAndOnlyForANewJob() {
    var imported =
        journal.<Ack>runCommand(
            replyTo ->
                new JobJournal.RecordImported(
                    new JobJournal.JobImported("job { }", 2, 40, 0.5, "elsewhere"),
                    checkpoint(40),
                    replyTo));
    assertEquals(JobJournal.Recorded.IMPORTED, imported.reply().what());
    assertEquals(40, imported.state().lastRound());
    assertEquals(40, imported.state().importedAt());
    assertEquals(40, imported.state().newestCheckpoint().round());
    var again =
        journal.<Ack>runCommand(
            replyTo ->
                new JobJournal.RecordImported(
                    new JobJournal.JobImported("job { }", 2, 80, 0.5, "elsewhere"),
                    checkpoint(80),
                    replyTo));
    assertEquals(JobJournal.Recorded.REFUSED, again.reply().what());
    assertEquals(List.of(), again.events());
  }

  @Test
  void compactionSummarizesTheStateAndDeletesEventsBeforeTheOldestKeptCheckpoint() {
    List<long[]> deleted = new java.util.concurrent.CopyOnWriteArrayList<>();
    var kit =
        EventSourcedBehaviorTestKit.<JobJournal.Command, JobJournal.Event, JournalState>create(
            testKit.system(),
            JobJournal.create(
                "j2", (id, before, kept) -> deleted.add(new long[] {before, kept.size()})),
            EventSourcedBehaviorTestKit.disabledSerializationSettings()
                .withVerifyEvents(true)
                .withVerifyCommands(false)
                .withVerifyState(false));
    kit.clear();
    kit.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 2, replyTo)); // 1
    kit.<Ack>runCommand(replyTo -> new JobJournal.StartEpoch("node", replyTo)); // 2
    kit.<Ack>runCommand(
        replyTo -> new JobJournal.RecordRounds(List.of(round(1), round(2)), replyTo)); // 3, 4
    kit.<Ack>runCommand(replyTo -> new JobJournal.RecordCheckpoint(checkpoint(2), replyTo));
    kit.<Ack>runCommand(
        replyTo -> new JobJournal.RecordRounds(List.of(round(3), round(4)), replyTo)); // 6, 7
    kit.<Ack>runCommand(replyTo -> new JobJournal.RecordCheckpoint(checkpoint(4), replyTo));
    JournalState before = kit.getState();

    var compacted = kit.runCommand(new JobJournal.Compact(4));
    assertEquals(1, compacted.events().size());
    var event = (JobJournal.JournalCompacted) compacted.events().get(0);
    assertEquals(8, event.deletedBefore(), "the checkpoint of round 4 was event 8");
    assertEquals(
        before.withEpochStarts(Set.of()), event.summary(), "the state, but for the epoch starts");
    assertEquals(Set.of(2L), before.epochStarts());
    long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (deleted.isEmpty() && System.nanoTime() < until) {
      Thread.onSpinWait(); // the delete runs on the blocking pool
    }
    assertEquals(1, deleted.size());
    assertEquals(8, deleted.get(0)[0]);
    assertEquals(1, deleted.get(0)[1], "the incarnation's start (event 2) is never deleted");
    assertEquals(0, kit.runCommand(new JobJournal.Compact(4)).events().size(), "done once");
    assertEquals(
        0, kit.runCommand(new JobJournal.Compact(2)).events().size(), "nothing older to delete");
    kit.restart();
    assertEquals(before, kit.getState(), "the summary restores the same state");
  }

  @Test
  void aCheckpointGoesWithTheRoundBatchThatMakesItsRoundDurable() {
    startEpoch();
    var ahead =
        journal.<Ack>runCommand(
            replyTo ->
                new JobJournal.RecordRounds(List.of(round(1), round(2)), checkpoint(3), replyTo));
    assertEquals(List.of(round(1), round(2)), ahead.events(), "round 3 is not in the batch");
    assertEquals(0, ahead.reply().newestCheckpoint());
    var with =
        journal.<Ack>runCommand(
            replyTo ->
                new JobJournal.RecordRounds(List.of(round(3), round(4)), checkpoint(3), replyTo));
    assertEquals(
        List.of(
            round(3),
            round(4),
            new JobJournal.CheckpointCommitted(3, "postgres:anvil_checkpoint/j1/3", "ab", 100, 1)),
        with.events(),
        "one write");
    assertEquals(3, with.reply().newestCheckpoint());
    assertEquals(4, with.reply().lastRound());
  }
}
