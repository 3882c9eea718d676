package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.train.Recovery;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * A coordinator incarnation: its epoch, the bitwise check of its replay, whether its start is a
 * recovery (a take-over) or not (a resume, a new job), and when a node is back after a loss it
 * could not see.
 */
class IncarnationTest {
  /** When the previous incarnation committed its last round. */
  private static final long LAST_COMMIT = 10_000;

  /** A journal of an unfinished job: 40 rounds committed with loss {@code lastLoss}. */
  private static JournalState recorded(double lastLoss, long lastRoundMillis, long startedMillis) {
    return JournalState.EMPTY
        .withJob("job { }", 2)
        .withEpoch(3)
        .withLastRound(40, lastLoss, lastRoundMillis)
        .withStartedMillis(startedMillis);
  }

  private static Incarnation takeOver() {
    return new Incarnation(recorded(0.5, LAST_COMMIT, 100), true, false, 20_000);
  }

  /** Answers {@code answer}, counting the questions. */
  private record Asked(AtomicInteger times, boolean answer) implements BooleanSupplier {
    Asked(boolean answer) {
      this(new AtomicInteger(), answer);
    }

    @Override
    public boolean getAsBoolean() {
      times.incrementAndGet();
      return answer;
    }
  }

  @Test
  void theReplayMatchesOnlyTheJournalsLossBitForBit() {
    Incarnation inc = takeOver();
    assertNull(inc.replayVerdict(0.5));
    String failure = inc.replayVerdict(Math.nextUp(0.5));
    assertEquals(
        "recomputed round 40 has loss 0.5000000000000001 but the journal records 0.5:"
            + " the recomputation is not bitwise identical (is every node running the same Anvil"
            + " version and kernel?)",
        failure);
  }

  @Test
  void zeroAndNegativeZeroAreDifferentBits() {
    Incarnation zero = new Incarnation(recorded(0.0, LAST_COMMIT, 0), true, false, 1);
    assertNotNull(zero.replayVerdict(-0.0), "-0.0 == 0.0 but its bits differ");
    assertNull(zero.replayVerdict(0.0));
    Incarnation negative = new Incarnation(recorded(-0.0, LAST_COMMIT, 0), true, false, 1);
    assertNotNull(negative.replayVerdict(0.0));
  }

  @Test
  void aNaNLossMatchesARecordedNaN() {
    Incarnation nan = new Incarnation(recorded(Double.NaN, LAST_COMMIT, 0), true, false, 1);
    assertNull(nan.replayVerdict(Double.NaN), "NaN != NaN, but the bits are the same");
    assertNotNull(nan.replayVerdict(0.5));
    assertNotNull(takeOver().replayVerdict(Double.NaN));
  }

  @Test
  void theEpochIsTakenFromTheJournalsFirstAnswer() {
    Incarnation inc = takeOver();
    assertEquals(0, inc.coordinatorEpoch());
    assertTrue(inc.started(4));
    assertEquals(4, inc.coordinatorEpoch());
    assertFalse(inc.started(5), "a repeated answer changes nothing");
    assertEquals(4, inc.coordinatorEpoch());
  }

  @Test
  void theJobStartedWithItsFirstIncarnation() {
    assertEquals(100, takeOver().jobStartMillis());
    assertEquals(
        20_000,
        new Incarnation(recorded(0.5, LAST_COMMIT, 0), true, false, 20_000).jobStartMillis(),
        "a journal without a start time: this incarnation's");
  }

  @Test
  void theReplayFinishesOnce() {
    Incarnation inc = takeOver();
    assertTrue(inc.finishReplay());
    assertFalse(inc.finishReplay());
  }

  @Test
  void roundsRedoneAreThoseNeitherRestoredNorReplayedFromTheLog() {
    Incarnation inc = takeOver();
    assertEquals(40, inc.replayUntil());
    assertEquals(40, inc.redone());
    inc.restoredCheckpoint(30);
    inc.replayedLog(6);
    assertEquals(4, inc.redone());
  }

  @Test
  void aTakeOverIsARecoveryThatCompletesWithTheFirstNewRound() {
    Incarnation inc = takeOver();
    assertTrue(inc.recovering());
    inc.started(4);
    inc.restoredCheckpoint(30);
    inc.replayingLog(20_100);
    inc.replayedLog(6);
    inc.dispatching(20_500);
    Recoveries recoveries = new Recoveries(List.of());

    inc.restartRecovery(recoveries, "127.0.0.1:2551", 20_900);

    assertEquals(List.of(), recoveries.complete(40, Map.of(), 30_000));
    List<Recovery> done = recoveries.complete(41, Map.of(41L, 21_000L), 30_000);
    assertEquals(
        List.of(
            new Recovery(
                "coordinator-restart",
                "epoch 4 on 127.0.0.1:2551 took"
                    + " over from epoch 3 at the checkpoint of round 30, replaying 6 logged gradients,"
                    + " recomputing 4 committed rounds",
                LAST_COMMIT,
                20_000,
                20_500,
                21_000,
                LAST_COMMIT,
                4,
                400,
                0)),
        done);
  }

  @Test
  void aTakeOverFromRoundZeroSaysOnlyWhatItRecomputed() {
    Incarnation inc = takeOver();
    inc.started(2);
    inc.dispatching(20_000);
    Recoveries recoveries = new Recoveries(List.of());
    inc.restartRecovery(recoveries, "h:1", 20_000);
    assertEquals(
        "epoch 2 on h:1 took over from epoch 1, recomputing 40 committed rounds",
        recoveries.complete(41, Map.of(), 1).get(0).detail());
  }

  @Test
  void aResumeIsNoRecovery() {
    Incarnation resumed = new Incarnation(recorded(0.5, LAST_COMMIT, 100), true, true, 20_000);
    assertTrue(resumed.resuming());
    assertFalse(resumed.recovering());
  }

  @Test
  void afterATakeOverANodeStartedSinceTheLastCommitIsBackOnceItsHostPortIsFirstSeen() {
    Incarnation inc = takeOver();
    Asked first = new Asked(true);
    assertTrue(inc.backAfterTakeOver(LAST_COMMIT + 1, first));
    assertEquals(1, first.times().get());
    assertFalse(
        inc.backAfterTakeOver(LAST_COMMIT + 1, new Asked(false)),
        "its host:port was seen already: reported once");
  }

  @Test
  void aNodeStartedBeforeTheLastCommitWasNotLostAndIsNotAskedAbout() {
    Incarnation inc = takeOver();
    Asked first = new Asked(true);
    assertFalse(inc.backAfterTakeOver(LAST_COMMIT, first));
    assertFalse(inc.backAfterTakeOver(0, first), "a worker that does not say when it started");
    assertEquals(0, first.times().get(), "asking marks the host:port seen: not asked in vain");
  }

  @Test
  void noRejoinIsInferredWithoutATakeOver() {
    Asked first = new Asked(true);
    Incarnation resumed = new Incarnation(recorded(0.5, LAST_COMMIT, 100), true, true, 20_000);
    assertFalse(resumed.backAfterTakeOver(LAST_COMMIT + 1, first), "a resume");
    Incarnation submitted = new Incarnation(recorded(0.5, 0, 0), false, false, 20_000);
    assertFalse(submitted.backAfterTakeOver(LAST_COMMIT + 1, first), "a new job");
    Incarnation neverCommitted = new Incarnation(recorded(0.5, 0, 100), true, false, 20_000);
    assertFalse(
        neverCommitted.backAfterTakeOver(LAST_COMMIT + 1, first),
        "the previous incarnation committed nothing");
    assertEquals(0, first.times().get());
  }
}
