package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.CommitPipeline.Durable;
import dev.anvil.coordinator.CommitPipeline.Flush;
import dev.anvil.coordinator.CommitPipeline.Later;
import dev.anvil.coordinator.CommitPipeline.Outage;
import dev.anvil.coordinator.CommitPipeline.Wait;
import dev.anvil.coordinator.CommitPipeline.Write;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How computed rounds become durable: batches, the write interval, one write in flight, the
 * incremental mode's gradient log first, acknowledgements, a journal outage's dates, and when
 * computing must wait for the journal.
 */
class CommitPipelineTest {
  private static final long MS = 1_000_000;

  /** A System.nanoTime() long after the (never made) previous write. */
  private static final long T0 = 1_000 * MS;

  /** A model small enough for the byte bounds not to matter. */
  private static final long SMALL = 10;

  private static CoordinatorSettings settings(int perWrite, long intervalMillis, int ahead) {
    return new CoordinatorSettings(
        Duration.ofSeconds(60),
        perWrite,
        Duration.ofMillis(intervalMillis),
        5,
        Duration.ofMillis(50),
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        ahead,
        3,
        8,
        50,
        null,
        false);
  }

  private static CommitPipeline snapshot(int perWrite, long intervalMillis) {
    return new CommitPipeline(settings(perWrite, intervalMillis, 256), SMALL, false);
  }

  /** Round {@code r} as computed: the journal will record it as committed at 5000 + r ms. */
  private static RoundCommitted round(long r) {
    return new RoundCommitted(r, 0.5, 24, 5_000 + r, 1);
  }

  private static void compute(CommitPipeline p, long from, long to) {
    for (long r = from; r <= to; r++) {
      p.computed(round(r), r * MS);
    }
  }

  private static void computeAndLog(CommitPipeline p, long from, long to) {
    for (long r = from; r <= to; r++) {
      p.toLog(new RoundGradient(r, new float[] {r}, r, 24));
      p.computed(round(r), r * MS);
    }
  }

  private static List<Long> rounds(Flush f) {
    return assertInstanceOf(Write.class, f).batch().stream().map(RoundCommitted::round).toList();
  }

  private static List<Long> logged(Flush f) {
    return assertInstanceOf(Write.class, f).gradients().stream().map(RoundGradient::round).toList();
  }

  @Test
  void withNothingComputedThereIsNothingToWrite() {
    assertInstanceOf(Wait.class, snapshot(3, 20).flush(T0, true));
  }

  @Test
  void roundsGoInBatchesOfAtMostMaxRoundsPerWriteOneWriteInFlight() {
    CommitPipeline p = snapshot(3, 0);
    compute(p, 1, 5);

    Flush first = p.flush(T0, false);
    assertEquals(List.of(1L, 2L, 3L), rounds(first));
    assertEquals(List.of(), logged(first), "snapshot mode logs no gradients");
    assertInstanceOf(Wait.class, p.flush(T0 + MS, false), "one write in flight");
    assertEquals(T0, p.sentNanos());

    Durable d = p.acknowledged(3, 9_000, false);
    assertEquals(3, d.newest().round());
    assertEquals(3, d.newly());
    assertEquals(3, p.durableRound());
    assertEquals(List.of(4L, 5L), rounds(p.flush(T0 + 2 * MS, false)));
  }

  @Test
  void whileTrainingWritesAreAtLeastTheMinimumIntervalApart() {
    CommitPipeline p = snapshot(3, 20);
    compute(p, 1, 1);
    assertEquals(List.of(1L), rounds(p.flush(T0, true)));
    p.acknowledged(1, 9_000, false);
    compute(p, 2, 2);

    assertEquals(new Later(Duration.ofMillis(15)), p.flush(T0 + 5 * MS, true));
    assertTrue(p.scheduled());
    assertInstanceOf(Wait.class, p.flush(T0 + 6 * MS, true), "a flush is scheduled already");
    p.tick();
    assertFalse(p.scheduled());
    assertEquals(List.of(2L), rounds(p.flush(T0 + 20 * MS, true)));
  }

  @Test
  void pausingOrFinishingTheIntervalIsNotKept() {
    CommitPipeline p = snapshot(3, 20);
    compute(p, 1, 1);
    p.flush(T0, true);
    p.acknowledged(1, 9_000, false);
    compute(p, 2, 2);
    assertEquals(List.of(2L), rounds(p.flush(T0 + MS, false)));
  }

  @Test
  void anUnansweredWriteIsSentAgainWithWhatWasComputedMeanwhile() {
    CommitPipeline p = snapshot(3, 0);
    compute(p, 1, 2);
    p.flush(T0, false);
    compute(p, 3, 4);
    p.unanswered();
    assertEquals(List.of(1L, 2L, 3L), rounds(p.flush(T0 + 5_000 * MS, false)));
    assertEquals(T0 + 5_000 * MS, p.sentNanos());
  }

  @Test
  void incrementalModeLogsABatchsGradientsBeforeItIsJournaledAndBoundsItsBytes() {
    long eightMegabytes = 1L << 21; // parameters: 16 MB a write holds two rounds
    CommitPipeline p = new CommitPipeline(settings(256, 0, 256), eightMegabytes, true);
    computeAndLog(p, 1, 3);

    Flush first = p.flush(T0, false);
    assertEquals(List.of(1L, 2L), rounds(first));
    assertEquals(List.of(1L, 2L), logged(first), "the batch's gradients, not round 3's");
    p.logged(2);
    p.acknowledged(2, 9_000, false);

    Flush second = p.flush(T0 + MS, false);
    assertEquals(List.of(3L), rounds(second));
    assertEquals(List.of(3L), logged(second), "logged ones are not logged again");
  }

  @Test
  void incrementalModeWritesAtLeastOneRoundHoweverLargeTheModel() {
    CommitPipeline p = new CommitPipeline(settings(256, 0, 256), 1L << 23, true);
    computeAndLog(p, 1, 2);
    assertEquals(List.of(1L), rounds(p.flush(T0, false)));
  }

  @Test
  void incrementalModeWithASmallModelKeepsMaxRoundsPerWrite() {
    CommitPipeline p = new CommitPipeline(settings(3, 0, 256), SMALL, true);
    computeAndLog(p, 1, 5);
    assertEquals(List.of(1L, 2L, 3L), rounds(p.flush(T0, false)));
  }

  @Test
  void aFailedGradientLogIsRetriedAfterASecondWithTheSameBatch() {
    CommitPipeline p = new CommitPipeline(settings(256, 0, 256), SMALL, true);
    computeAndLog(p, 1, 2);
    p.flush(T0, false);

    assertEquals(Duration.ofSeconds(1), p.logFailed());

    assertTrue(p.scheduled());
    assertInstanceOf(Wait.class, p.flush(T0 + MS, false));
    p.tick();
    Flush again = p.flush(T0 + 1_000 * MS, false);
    assertEquals(List.of(1L, 2L), rounds(again));
    assertEquals(List.of(1L, 2L), logged(again));
  }

  @Test
  void anAckMakesTheRoundsUpToItDurableWithTheJournalsTimesWhenAsked() {
    CommitPipeline p = snapshot(3, 0);
    compute(p, 1, 3);
    p.flush(T0, false);

    Durable d = p.acknowledged(2, 9_000, true);

    assertEquals(round(2), d.newest());
    assertEquals(2, d.newly());
    assertEquals(Map.of(1L, 5_001L, 2L, 5_002L), d.committedMillis());
    assertNull(d.outage());
    assertEquals(List.of(3L), rounds(p.flush(T0 + MS, false)), "round 3 goes again");
    assertEquals(
        Map.of(),
        p.acknowledged(3, 9_100, false).committedMillis(),
        "no recovery waits: no times kept");
  }

  @Test
  void anAckOfNothingNewIsNothing() {
    CommitPipeline p = snapshot(3, 0);
    compute(p, 1, 2);
    p.flush(T0, false);
    p.acknowledged(2, 9_000, false);
    assertNull(p.acknowledged(2, 9_100, false), "the same ack twice");
    p.replayedThrough(40);
    compute(p, 41, 41);
    p.flush(T0 + MS, false);
    assertNull(p.acknowledged(40, 9_200, false), "replayed rounds were durable already");
    assertEquals(1, p.acknowledged(41, 9_300, false).newly());
  }

  @Test
  void progressIsReportedWithTheTrainingTimeOfTheNewestDurableRound() {
    CommitPipeline p = snapshot(3, 0);
    compute(p, 1, 3);
    assertEquals(2 * MS, p.trainNanosAt(2, -1));
    assertEquals(-1, p.trainNanosAt(1, -1), "older rounds' times are forgotten");
    assertEquals(-1, p.trainNanosAt(2, -1));
    assertEquals(3 * MS, p.trainNanosAt(3, -1));
  }

  @Test
  void anOutageIsDatedFromTheUnansweredWriteAndEndsWithTheNextAckOfNewRounds() {
    CommitPipeline p = snapshot(3, 0);
    compute(p, 1, 1);
    p.flush(T0, false);
    p.acknowledged(1, 40_000, false);
    compute(p, 2, 2);
    p.flush(T0 + 100 * MS, false);

    assertTrue(p.degrade(50_000, T0 + 5_100 * MS), "the write went 5 s ago");
    assertFalse(p.degrade(51_000, T0 + 6_100 * MS), "the same outage");
    p.unanswered();
    p.flush(T0 + 6_100 * MS, false);
    assertNull(p.acknowledged(1, 51_500, false), "an old ack does not end it");

    Durable d = p.acknowledged(2, 52_000, false);

    assertEquals(
        new Outage(45_000, 51_500),
        d.outage(),
        "from the first unanswered write; the journal's last ack before the end");
    compute(p, 3, 3);
    p.flush(T0 + 7_000 * MS, false);
    assertNull(p.acknowledged(3, 53_000, false).outage(), "over");
    assertTrue(p.degrade(60_000, T0 + 8_000 * MS), "a new outage is reported again");
  }

  @Test
  void computingWaitsWhenMaxRoundsAheadAreNotDurable() {
    CommitPipeline p = new CommitPipeline(settings(3, 0, 4), SMALL, false);
    assertEquals(4, p.roundsAhead());
    assertFalse(p.tooFarAhead(3));
    assertTrue(p.tooFarAhead(4));
    p.replayedThrough(10);
    assertFalse(p.tooFarAhead(13));
    assertTrue(p.tooFarAhead(14));
  }

  @Test
  void incrementalModeAlsoBoundsTheGradientBytesHeldAhead() {
    assertEquals(
        4,
        new CommitPipeline(settings(3, 0, 256), 1L << 22, true).roundsAhead(),
        "64 MB of 16 MB gradients");
    assertEquals(
        2,
        new CommitPipeline(settings(3, 0, 256), 1L << 24, true).roundsAhead(),
        "never fewer than two");
    assertEquals(7, new CommitPipeline(settings(3, 0, 7), SMALL, true).roundsAhead());
    assertEquals(
        256,
        new CommitPipeline(settings(3, 0, 256), 1L << 24, false).roundsAhead(),
        "snapshot mode holds no gradients");
  }

  @Test
  void anEndedJobForgetsWhatWaited() {
    CommitPipeline p = new CommitPipeline(settings(3, 0, 256), SMALL, true);
    computeAndLog(p, 1, 2);
    p.clear();
    assertInstanceOf(Wait.class, p.flush(T0, false));
    assertEquals(-1, p.trainNanosAt(2, -1));
  }
}
