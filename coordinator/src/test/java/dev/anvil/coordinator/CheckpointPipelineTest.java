package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.CheckpointPipeline.Captured;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.train.TrainingState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which checkpoint is written and journaled when: one write in flight and one capture waiting (a
 * newer one replaces it), writes wait for the evaluations up to their round, journaling in round
 * order once durable (alone or with a batch of rounds), and retention.
 */
class CheckpointPipelineTest {
  private static Captured captured(long round) {
    return new Captured(
        new TrainingState(round, new float[] {round}, OptimizerState.initial(0, 1)), 0.5, 1.5, 3);
  }

  private static CheckpointCommitted ref(long round) {
    return new CheckpointCommitted(round, "memory:" + round, "sum-" + round, 100, 1);
  }

  private static List<Long> rounds(List<CheckpointCommitted> refs) {
    return refs.stream().map(CheckpointCommitted::round).toList();
  }

  /** A pipeline that keeps {@code keep}, with {@code rounds} written (in that order). */
  private static CheckpointPipeline written(int keep, long... rounds) {
    CheckpointPipeline p = new CheckpointPipeline(List.of(), keep);
    for (long r : rounds) {
      p.capture(captured(r));
      assertEquals(r, p.nextWrite().state().round());
      p.written(ref(r));
    }
    return p;
  }

  /** Journals the oldest written checkpoint alone; returns what retention says then. */
  private static long journalOne(CheckpointPipeline p) {
    CheckpointCommitted next = p.nextToJournal(Long.MAX_VALUE);
    assertNotNull(next, "a checkpoint to journal");
    assertEquals(next, p.journaled());
    return p.retain();
  }

  @Test
  void oneWriteInFlightAndOneCaptureWaitingWhichANewerOneReplaces() {
    CheckpointPipeline p = new CheckpointPipeline(List.of(), 3);
    assertNull(p.nextWrite(), "nothing captured");
    Captured five = captured(5);
    p.capture(five);
    assertSame(five, p.nextWrite());
    p.capture(captured(10));
    assertNull(p.nextWrite(), "the checkpoint of round 5 is being written");
    Captured fifteen = captured(15);
    p.capture(fifteen);

    p.written(ref(5));

    assertSame(fifteen, p.nextWrite(), "round 10's capture was replaced");
    assertNull(p.nextWrite());
  }

  @Test
  void aFailedWriteLetsTheNextCaptureBeWritten() {
    CheckpointPipeline p = new CheckpointPipeline(List.of(), 3);
    p.capture(captured(5));
    p.nextWrite();
    p.capture(captured(10));
    p.writeFailed();
    assertEquals(10, p.nextWrite().state().round());
    assertNull(p.nextToJournal(Long.MAX_VALUE), "round 5 was not written");
  }

  @Test
  void aWriteWaitsForTheEvaluationsUpToItsRound() {
    CheckpointPipeline p = new CheckpointPipeline(List.of(), 3);
    assertFalse(p.evaluationsPending());
    p.evaluationStarted(10);
    p.evaluationStarted(20);
    assertTrue(p.evaluationsPending());
    p.capture(captured(10));
    assertNull(p.nextWrite(), "its history must hold round 10's evaluation");

    p.evaluated(10);

    assertEquals(10, p.nextWrite().state().round(), "round 20's evaluation is after it");
    assertTrue(p.evaluationsPending());
    p.evaluated(20);
    assertFalse(p.evaluationsPending());
  }

  @Test
  void aCheckpointIsJournaledOnlyOnceItsRoundIsDurableOneAtATimeInRoundOrder() {
    CheckpointPipeline p = written(3, 5, 10);

    assertNull(p.nextToJournal(4));
    assertEquals(5, p.nextToJournal(12).round());
    assertNull(p.nextToJournal(12), "one at a time");
    assertEquals(5, p.journaled().round());
    assertEquals(-1, p.retain());
    assertNull(p.nextToJournal(9));
    assertEquals(10, p.nextToJournal(10).round());
    p.journaled();
    assertEquals(List.of(10L, 5L), rounds(p.newestFirst()));
  }

  @Test
  void aCheckpointGoesWithABatchOfRoundsThatReachesItsRound() {
    CheckpointPipeline p = written(3, 5);
    assertNull(p.withRounds(4), "the batch ends before round 5");
    assertEquals(5, p.withRounds(7).round());
    assertNull(p.nextToJournal(Long.MAX_VALUE), "it is being journaled with the rounds");

    assertTrue(p.roundsAnswered(5), "the journal holds it");

    assertEquals(5, p.journaled().round());
    assertEquals(5, p.newestKeptRound());
    assertFalse(p.roundsAnswered(7), "the next batch carries no checkpoint");
  }

  @Test
  void aCheckpointTheBatchsAnswerDoesNotHoldGoesAgainFirst() {
    CheckpointPipeline p = written(3, 5, 10);
    p.withRounds(12);

    assertFalse(p.roundsAnswered(3));

    assertEquals(5, p.nextToJournal(12).round(), "requeued before round 10's");
    assertEquals(-1, p.newestKeptRound());
  }

  @Test
  void aCheckpointOfAnUnansweredBatchGoesAgainFirst() {
    CheckpointPipeline p = written(3, 5, 10);
    p.withRounds(12);
    p.roundsUnanswered();
    assertEquals(5, p.withRounds(12).round());
    assertTrue(p.roundsAnswered(10));
    p.journaled();
    assertEquals(List.of(5L), rounds(p.newestFirst()));
  }

  @Test
  void anUnansweredBatchWithoutACheckpointChangesNothing() {
    CheckpointPipeline p = written(3, 5);
    assertEquals(5, p.nextToJournal(5).round());
    p.roundsUnanswered();
    assertNull(p.nextToJournal(5), "round 5 is still being journaled alone");
    assertEquals(5, p.journaled().round());
  }

  @Test
  void retentionKeepsBetweenKeepAndTwiceKeepLessOne() {
    CheckpointPipeline p = written(2, 1, 2, 3, 4, 5, 6);
    List<Long> retained = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      retained.add(journalOne(p));
      sizes.add(p.newestFirst().size());
    }
    assertEquals(
        List.of(-1L, -1L, -1L, 3L, -1L, 5L),
        retained,
        "every second checkpoint: keep the newest two, from round 3, then from round 5");
    assertEquals(List.of(1, 2, 3, 2, 3, 2), sizes);
    assertEquals(List.of(6L, 5L), rounds(p.newestFirst()));
  }

  @Test
  void journaledWithNothingBeingJournaledSaysSo() {
    assertNull(new CheckpointPipeline(List.of(), 2).journaled());
    assertEquals(-1, new CheckpointPipeline(List.of(), 2).retain());
  }

  @Test
  void aNewIncarnationKeepsTheNewestRecordedCheckpoints() {
    CheckpointPipeline p =
        new CheckpointPipeline(List.of(ref(1), ref(2), ref(3), ref(4), ref(5)), 2);
    assertEquals(List.of(5L, 4L), rounds(p.newestFirst()));
    assertEquals(5, p.newestKeptRound());
    assertEquals(-1, new CheckpointPipeline(List.of(), 2).newestKeptRound());
  }

  @Test
  void aRoundIsCoveredByAKeptWrittenOrJournalingCheckpoint() {
    CheckpointPipeline p = new CheckpointPipeline(List.of(ref(5)), 3);
    assertTrue(p.covers(5), "kept");
    p.capture(captured(10));
    p.nextWrite();
    assertFalse(p.covers(10), "being written: not yet");
    p.written(ref(10));
    assertTrue(p.covers(10), "written");
    p.nextToJournal(10);
    assertTrue(p.covers(10), "being journaled");
    p.journaled();
    assertTrue(p.covers(10));
    assertFalse(p.covers(5), "only the newest kept one counts");
    assertFalse(p.covers(7));
  }
}
