package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.train.Recovery;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each kind of recovery as the coordinator records it, when it completes (the journal's time of the
 * round it waited for, never before its work was handed out), and the journal's acks.
 */
class RecoveriesTest {
  private static final Recovery EARLIER =
      new Recovery("deadline", "round 3: [w] late", 1, 2, 2, 3, 1, 0, 0, 1);

  private final Recoveries recoveries = new Recoveries(List.of(EARLIER));

  /** The one recovery completed by round {@code round}, committed at {@code millis}. */
  private Recovery completeOne(long round, long millis) {
    List<Recovery> done = recoveries.complete(round, Map.of(round, millis), 99_999);
    assertEquals(1, done.size(), done::toString);
    return done.get(0);
  }

  @Test
  void aMissedDeadline() {
    recoveries.deadline(12, List.of("w1", "w2"), 900, 1_000, 800, 3);
    assertEquals(
        new Recovery("deadline", "round 12: [w1, w2] late", 900, 1_000, 1_000, 1_200, 800, 0, 0, 3),
        completeOne(12, 1_200));
  }

  @Test
  void aNodeUnreachableOrDownedOrRemoved() {
    recoveries.nodeLost("127.0.0.1:2552", 7, "unreachable", 5, 2, 900, 1_000, 800, 4);
    assertEquals(
        new Recovery(
            "node-unreachable",
            "127.0.0.1:2552 (uid 7) unreachable in round 5," + " 2 workers",
            900,
            1_000,
            1_000,
            1_100,
            800,
            0,
            0,
            4),
        completeOne(5, 1_100));

    recoveries.nodeLost("127.0.0.1:2553", 8, "downed", 6, 1, 0, 2_000, 1_100, 2);
    Recovery downed = completeOne(6, 2_100);
    assertEquals("node-downed", downed.kind());
    assertEquals("127.0.0.1:2553 (uid 8) downed in round 6, 1 workers", downed.detail());

    recoveries.nodeLost("127.0.0.1:2554", 9, "removed", 7, 1, 0, 3_000, 2_100, 0);
    Recovery removed = completeOne(7, 3_100);
    assertEquals("node-downed", removed.kind(), "a removal is recorded as a downing");
    assertEquals("127.0.0.1:2554 (uid 9) removed in round 7, 1 workers", removed.detail());
  }

  @Test
  void aNodeLeftGracefullyCompletesWithTheRoundAfterItsWorkersLastOne() {
    recoveries.nodeLeft("127.0.0.1:2552", 7, 10, 2, 1_000, 800);
    assertEquals(
        List.of(), recoveries.complete(11, Map.of(), 5_000), "its workers still deliver round 11");
    assertEquals(
        new Recovery(
            "node-left",
            "127.0.0.1:2552 (uid 7) after round 10, 2 workers",
            0,
            1_000,
            1_000,
            1_300,
            800,
            0,
            0,
            0),
        completeOne(12, 1_300));
  }

  @Test
  void aBadGradient() {
    recoveries.badGradient(4, "w2", "a non-finite value at index 3", 1_000, 800);
    assertEquals(
        new Recovery(
            "bad-gradient",
            "round 4: worker w2 returned a non-finite value at" + " index 3",
            0,
            1_000,
            1_000,
            1_050,
            800,
            0,
            0,
            1),
        completeOne(4, 1_050));
  }

  @Test
  void aJournalOutage() {
    recoveries.journalOutage(10_000, 9_500, 14_000, 40);
    assertEquals(
        new Recovery(
            "journal-outage",
            "the journal did not record rounds for 4000 ms",
            9_500,
            10_000,
            10_000,
            14_000,
            9_500,
            0,
            0,
            0),
        completeOne(40, 14_000));
  }

  @Test
  void aRejoinedNode() {
    recoveries.nodeRejoined("127.0.0.1:2552", 9, 21, 1_000, 1_700);
    assertEquals(
        new Recovery(
            "node-rejoined",
            "127.0.0.1:2552 (a new incarnation, uid 9) is"
                + " back in the job from round 21; its process started 700 ms before its worker was"
                + " admitted",
            0,
            1_000,
            1_700,
            1_900,
            0,
            0,
            0,
            0),
        completeOne(21, 1_900));
  }

  @Test
  void aCoordinatorRestart() {
    recoveries.coordinatorRestart("epoch 3 took over", 800, 1_000, 1_500, 6, 400, 41);
    assertEquals(List.of(), recoveries.complete(40, Map.of(), 5_000));
    assertEquals(
        new Recovery(
            "coordinator-restart", "epoch 3 took over", 800, 1_000, 1_500, 2_000, 800, 6, 400, 0),
        completeOne(41, 2_000));
  }

  @Test
  void aRecoveryCompletesAtTheLaterOfItsRoundsJournalTimeAndItsRedispatch() {
    recoveries.deadline(12, List.of("w"), 0, 5_000, 0, 1);
    assertEquals(
        5_000,
        completeOne(12, 4_000).firstCommitMillis(),
        "a round computed in an outage became durable only after the fault was handled");
    recoveries.deadline(13, List.of("w"), 0, 5_000, 0, 1);
    assertEquals(6_000, completeOne(13, 6_000).firstCommitMillis());
  }

  @Test
  void aRoundWithoutAJournalTimeCompletesItsRecoveriesNow() {
    recoveries.deadline(12, List.of("w"), 0, 5_000, 0, 1);
    List<Recovery> done = recoveries.complete(20, Map.of(), 7_000);
    assertEquals(7_000, done.get(0).firstCommitMillis());
  }

  @Test
  void onlyTheRecoveriesWaitingForADurableRoundComplete() {
    assertFalse(recoveries.waiting());
    recoveries.deadline(12, List.of("a"), 0, 1, 0, 1);
    recoveries.deadline(14, List.of("b"), 0, 2, 0, 1);
    recoveries.badGradient(13, "c", "NaN", 3, 0);
    assertTrue(recoveries.waiting());

    List<Recovery> done = recoveries.complete(13, Map.of(12L, 10L, 13L, 11L), 50);

    assertEquals(
        List.of("round 12: [a] late", "round 13: worker c returned NaN"),
        done.stream().map(Recovery::detail).toList());
    assertTrue(recoveries.waiting());
    assertEquals(
        List.of("round 14: [b] late"),
        recoveries.complete(14, Map.of(), 60).stream().map(Recovery::detail).toList());
    assertFalse(recoveries.waiting());
  }

  @Test
  void everyRecoveryIsKeptEarlierIncarnationsFirst() {
    recoveries.deadline(12, List.of("a"), 0, 1, 0, 1);
    Recovery done = completeOne(12, 10);
    assertEquals(List.of(EARLIER, done), recoveries.all());
  }

  @Test
  void completedRecoveriesWaitForTheJournalsAckOldestFirst() {
    recoveries.deadline(12, List.of("a"), 0, 1, 0, 1);
    recoveries.deadline(12, List.of("b"), 0, 2, 0, 1);
    List<Recovery> done = recoveries.complete(12, Map.of(), 10);
    assertEquals(done, recoveries.unacknowledged());

    assertTrue(recoveries.acknowledged(), "one is still unacknowledged");
    assertEquals(List.of(done.get(1)), recoveries.unacknowledged());
    assertFalse(recoveries.acknowledged());
    assertEquals(List.of(), recoveries.unacknowledged());
    assertFalse(recoveries.acknowledged(), "an ack with nothing unacknowledged is harmless");
    assertEquals(List.of(EARLIER), recoveries.all().subList(0, 1), "acks do not forget recoveries");
  }
}
