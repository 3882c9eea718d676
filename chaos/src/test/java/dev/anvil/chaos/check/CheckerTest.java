package dev.anvil.chaos.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.chaos.check.Verdict.Validity;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.history.History.Commit;
import dev.anvil.chaos.history.History.Written;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker on hand-made histories: each invariant broken alone makes it say false. */
class CheckerTest {
  private static final String HASH = "ab".repeat(32);

  /** Rounds 1..n by epoch 1, one every 10 ms from t = 1000, after one incarnation start. */
  static History clean(int n) {
    History h = new History();
    List<Commit> commits = new ArrayList<>();
    List<Written> written = new ArrayList<>(List.of(new Written(1, "coordinator-started", 1)));
    for (int r = 1; r <= n; r++) {
      commits.add(new Commit(r + 1, r, 1, 1000 + 10L * r, 1.0 / r));
      written.add(new Written(r + 1, "round-committed", 1));
    }
    h.journal(commits, written);
    return h;
  }

  static History withCommits(List<Commit> commits, List<Written> written) {
    History h = new History();
    h.journal(commits, written);
    return h;
  }

  @Test
  void aCleanRunWithTheReferenceHashIsTrue() {
    History h = clean(50);
    h.add(new History.Op(1200, History.Type.INJECT, "kill-node", "node 2", 20, "SIGKILL"));
    h.add(new History.Op(1300, History.Type.HEAL, "kill-node", "node 2", 30, "restarted"));
    Verdict v = Checker.check(h, 50, HASH, Checker.Outcome.finished(HASH, 0));
    assertEquals(Validity.TRUE, v.valid(), v.problems()::toString);
    assertEquals(new Verdict.FaultCount(1, 1, 1), v.faults().get("kill-node"));
    assertEquals(10, v.recoveries().get(0).millis()); // next commit at 1210
    assertEquals(100, v.recoveries().get(0).activeMillis());
  }

  @Test
  void recoveryEndsWhenTheClientHearsANewRoundCommitted() throws Exception {
    History h = clean(50);
    h.sample(10, 0.5);
    long injected = System.currentTimeMillis();
    h.add(
        new History.Op(
            injected, History.Type.INJECT, "database-outage", "the database", 10, "stopped"));
    h.sample(10, 0.5); // the same round again: no progress yet
    Thread.sleep(30);
    h.sample(11, 0.4);
    Verdict v = Checker.check(h, 50, HASH, Checker.Outcome.finished(HASH, 0));
    long heard = h.samples().get(2).timeMillis();
    assertEquals(heard - injected, v.recoveries().get(0).millis());
    assertTrue(v.recoveries().get(0).millis() >= 30);
  }

  @Test
  void theLongestStallCountsOnlyGapsThatBeginWhileTheFaultIsActive() {
    List<History.Sample> s =
        List.of(
            new History.Sample(1000, 1, 1),
            new History.Sample(1100, 2, 1),
            new History.Sample(1150, 3, 1),
            new History.Sample(3150, 4, 1),
            new History.Sample(3200, 5, 1),
            new History.Sample(9000, 6, 1));
    // Active 1120..4000: the gap 1150 -> 3150 (2000 ms) began inside; 3200 -> 9000 too.
    assertEquals(5800, Checker.longestStall(s, 1120, 4000));
    // Active 1120..3170: only the first gap began inside.
    assertEquals(2000, Checker.longestStall(s, 1120, 3170));
    // A gap that began before the fault counts from the fault.
    assertEquals(1900, Checker.longestStall(s, 1250, 1300));
    assertEquals(-1, Checker.longestStall(s, 9500, 9600));
  }

  @Test
  void aDifferentHashIsFalse() {
    Verdict v = Checker.check(clean(50), 50, HASH, Checker.Outcome.finished("cd".repeat(32), 0));
    assertEquals(Validity.FALSE, v.valid());
    assertTrue(v.problems().get(0).contains("differs from the fault-free reference"));
  }

  @Test
  void aLostRoundIsFalse() {
    History full = clean(50);
    List<Commit> commits = new ArrayList<>(full.commits());
    commits.remove(24);
    Verdict v =
        Checker.check(
            withCommits(commits, full.written()), 50, HASH, Checker.Outcome.finished(HASH, 0));
    assertEquals(Validity.FALSE, v.valid());
    assertEquals(1, v.lost());
    assertEquals(1, v.outOfOrder()); // 26 follows 24
  }

  @Test
  void aDuplicatedRoundIsFalse() {
    History full = clean(50);
    List<Commit> commits = new ArrayList<>(full.commits());
    commits.add(30, new Commit(100, 30, 1, 1400, 0.1));
    Verdict v =
        Checker.check(
            withCommits(commits, full.written()), 50, HASH, Checker.Outcome.finished(HASH, 0));
    assertEquals(Validity.FALSE, v.valid());
    assertEquals(1, v.duplicated());
    assertEquals(0, v.outOfOrder());
  }

  @Test
  void roundsOutOfOrderAreFalse() {
    History full = clean(50);
    List<Commit> commits = new ArrayList<>(full.commits());
    Commit a = commits.get(10);
    commits.set(10, commits.get(11));
    commits.set(11, a);
    Verdict v =
        Checker.check(
            withCommits(commits, full.written()), 50, HASH, Checker.Outcome.finished(HASH, 0));
    assertEquals(Validity.FALSE, v.valid());
    assertEquals(2, v.outOfOrder()); // 12 right after 10, then 11 after 12
    assertEquals(0, v.lost());
  }

  @Test
  void anOldEpochWritingAfterANewOneStartedIsASingleWriterViolation() {
    History full = clean(50);
    List<Written> written = new ArrayList<>(full.written());
    written.add(20, new Written(1000, "coordinator-started", 2));
    Verdict v =
        Checker.check(
            withCommits(full.commits(), written), 50, HASH, Checker.Outcome.finished(HASH, 0));
    assertEquals(Validity.FALSE, v.valid());
    assertEquals(31, v.singleWriterViolations()); // every epoch-1 event after the start of 2
  }

  @Test
  void aFailedJobIsFalseAndAnUnfinishedOneUnknown() {
    assertEquals(
        Validity.FALSE,
        Checker.check(
                clean(50), 50, HASH, Checker.Outcome.failed("every worker is on unreachable nodes"))
            .valid());
    Verdict unknown =
        Checker.check(clean(40), 50, HASH, Checker.Outcome.unfinished("no outcome within 60 s"));
    assertEquals(Validity.UNKNOWN, unknown.valid());
    assertEquals(10, unknown.lost());
  }

  @Test
  void aFaultThatCouldNotBeInjectedMakesTheRunUnknown() {
    History h = clean(50);
    h.add(new History.Op(1200, History.Type.FAIL, "partition", "node 3", 20, "no agent"));
    Verdict v = Checker.check(h, 50, HASH, Checker.Outcome.finished(HASH, 0));
    assertEquals(Validity.UNKNOWN, v.valid());
    assertTrue(v.problems().get(0).contains("no agent"));
  }

  @Test
  void aFaultAfterTheLastCommitIsUnknown() {
    History h = clean(50);
    h.add(new History.Op(5000, History.Type.INJECT, "pause-node", "node 1", 50, "SIGSTOP"));
    Verdict v = Checker.check(h, 50, HASH, Checker.Outcome.finished(HASH, 0));
    assertEquals(Validity.UNKNOWN, v.valid());
    assertEquals(-1, v.recoveries().get(0).millis());
  }

  /** A clean run whose cluster was whole {@code millisAgo} before its last round was heard. */
  private static History wholeBeforeTheEnd(long millisAgo) {
    History h = clean(50);
    h.add(
        new History.Op(
            System.currentTimeMillis() - millisAgo,
            History.Type.INFO,
            Checker.WHOLE,
            "-",
            10,
            "3 nodes up"));
    h.sample(50, 0.1);
    return h;
  }

  @Test
  void aJobBelowStrengthLongAfterTheClusterWasWholeIsFalse() {
    History h = wholeBeforeTheEnd(20_000);
    Verdict v = Checker.check(h, 50, HASH, Checker.Outcome.finished(HASH, 0, 3, 2, List.of()));
    assertEquals(Validity.FALSE, v.valid());
    assertTrue(v.problems().get(0).contains("2 of its 3 workers"), v.problems()::toString);

    Verdict full =
        Checker.check(
            h,
            50,
            HASH,
            Checker.Outcome.finished(
                HASH, 0, 3, 3, List.of(new Verdict.Rejoin("127.0.0.1:2552", 1000, 4200))));
    assertEquals(Validity.TRUE, full.valid(), full.problems()::toString);
    assertEquals(4200, full.rejoins().get(0).millis());
  }

  @Test
  void aJobBelowStrengthSoonAfterTheClusterWasWholeIsNotJudgedOnIt() {
    History h = wholeBeforeTheEnd(2_000);
    Verdict v = Checker.check(h, 50, HASH, Checker.Outcome.finished(HASH, 0, 3, 2, List.of()));
    assertEquals(Validity.TRUE, v.valid(), v.problems()::toString);
  }
}
