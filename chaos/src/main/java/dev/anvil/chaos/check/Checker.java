package dev.anvil.chaos.check;

import dev.anvil.chaos.check.Verdict.FaultCount;
import dev.anvil.chaos.check.Verdict.RecoveryTime;
import dev.anvil.chaos.check.Verdict.Validity;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.history.History.Commit;
import dev.anvil.chaos.history.History.Op;
import dev.anvil.chaos.history.History.Written;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Judges a chaos run from its {@link History} and the job's outcome alone, independently of the
 * code that ran the job: rounds 1..N each committed exactly once and in order, one writer at a
 * time, every injected fault followed by progress, and the final parameters bitwise equal to the
 * fault-free reference's. Pure: no I/O, no actors.
 */
public final class Checker {
  private Checker() {}

  /**
   * What the job ended with: its final hash and rejected results, or its failure; {@code ended}
   * false when it did not end within the run's time ({@code failure} says what was seen). {@code
   * workersWanted} (submitted) and {@code workersAtEnd} (in its last round; -1: not known), and the
   * nodes that came back into the job ({@code rejoins}).
   */
  public record Outcome(
      String paramsSha256,
      long rejectedResults,
      String failure,
      boolean ended,
      int workersWanted,
      int workersAtEnd,
      List<Verdict.Rejoin> rejoins) {
    public Outcome {
      rejoins = List.copyOf(rejoins);
    }

    public static Outcome finished(String paramsSha256, long rejectedResults) {
      return new Outcome(paramsSha256, rejectedResults, null, true, -1, -1, List.of());
    }

    public static Outcome finished(
        String paramsSha256,
        long rejectedResults,
        int workersWanted,
        int workersAtEnd,
        List<Verdict.Rejoin> rejoins) {
      return new Outcome(
          paramsSha256, rejectedResults, null, true, workersWanted, workersAtEnd, rejoins);
    }

    public static Outcome failed(String failure) {
      return new Outcome(null, 0, failure, true, -1, -1, List.of());
    }

    public static Outcome unfinished(String why) {
      return new Outcome(null, 0, why, false, -1, -1, List.of());
    }
  }

  /**
   * A job must be back at full strength when its cluster was whole again (an INFO op {@link
   * #WHOLE}) at least this long before its last committed round: restarted nodes rejoin.
   */
  static final long REJOIN_GRACE_MILLIS = 15_000;

  /** The INFO op a run records once every node is up again after its faults. */
  public static final String WHOLE = "cluster-whole";

  public static Verdict check(
      History history, long rounds, String referenceSha256, Outcome outcome) {
    List<String> falsified = new ArrayList<>();
    List<String> unknown = new ArrayList<>();

    TreeMap<Long, Integer> seen = new TreeMap<>();
    long outOfOrder = 0;
    long previous = 0;
    for (Commit c : history.commits()) {
      boolean again = seen.containsKey(c.round());
      seen.merge(c.round(), 1, Integer::sum);
      if (!again && c.round() != previous + 1) {
        outOfOrder++;
      }
      previous = Math.max(previous, c.round());
    }
    long duplicated = seen.values().stream().filter(n -> n > 1).count();
    long lost = 0;
    for (long r = 1; r <= rounds; r++) {
      if (!seen.containsKey(r)) {
        lost++;
      }
    }
    long beyond = seen.isEmpty() ? 0 : Math.max(0, seen.lastKey() - rounds);

    long newest = 0;
    long violations = 0;
    for (Written w : history.written()) {
      if (w.kind().equals("coordinator-started")) {
        if (w.epoch() <= newest) {
          violations++;
        }
        newest = Math.max(newest, w.epoch());
      } else if (w.epoch() > 0 && w.epoch() < newest) {
        violations++;
      }
    }

    if (!outcome.ended()) {
      unknown.add("the job did not end: " + outcome.failure());
    } else if (outcome.failure() != null) {
      falsified.add("the job failed: " + outcome.failure());
    }
    if (outcome.ended() && outcome.failure() == null) {
      if (lost > 0) {
        falsified.add(lost + " rounds lost (not in the journal)");
      }
      if (!outcome.paramsSha256().equals(referenceSha256)) {
        falsified.add(
            "paramsSha256 "
                + outcome.paramsSha256()
                + " differs from the fault-free reference's "
                + referenceSha256);
      }
    }
    if (duplicated > 0) {
      falsified.add(duplicated + " rounds committed more than once");
    }
    if (outOfOrder > 0) {
      falsified.add(outOfOrder + " rounds committed out of order");
    }
    if (beyond > 0) {
      falsified.add("rounds beyond the job's " + rounds + " committed");
    }
    if (violations > 0) {
      falsified.add(
          violations
              + " single-writer violations (events of an older coordinator"
              + " epoch after a newer one started)");
    }
    String understrength = understrength(history, outcome);
    if (understrength != null) {
      falsified.add(understrength);
    }

    Map<String, long[]> counts = new HashMap<>();
    List<RecoveryTime> recoveries = new ArrayList<>();
    List<Op> ops = history.ops();
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      long[] n = counts.computeIfAbsent(op.fault(), k -> new long[3]);
      if (op.type() == History.Type.FAIL) {
        unknown.add("fault " + op.fault() + " on " + op.target() + " failed: " + op.detail());
      } else if (op.type() == History.Type.HEAL) {
        n[1]++;
      } else if (op.type() == History.Type.INJECT) {
        n[0]++;
        long next = nextCommitAfter(history, op);
        if (next >= 0) {
          n[2]++;
        }
        long active = healedAfter(ops, i);
        recoveries.add(
            new RecoveryTime(
                op.fault(),
                op.target(),
                op.timeMillis(),
                next < 0 ? -1 : next - op.timeMillis(),
                active,
                longestStall(
                    history.samples(), op.timeMillis(), op.timeMillis() + Math.max(0, active))));
      }
    }
    TreeMap<String, FaultCount> faults = new TreeMap<>();
    counts.forEach(
        (fault, n) -> {
          if (n[0] > 0 || n[1] > 0) {
            faults.put(fault, new FaultCount(n[0], n[1], n[2]));
          }
        });
    for (RecoveryTime r : recoveries) {
      if (r.millis() < 0 && outcome.ended() && outcome.failure() == null) {
        unknown.add(
            "no round was committed after "
                + r.fault()
                + " on "
                + r.target()
                + ": the job had ended before it");
      }
    }

    Validity valid =
        !falsified.isEmpty()
            ? Validity.FALSE
            : !unknown.isEmpty() ? Validity.UNKNOWN : Validity.TRUE;
    List<String> problems = new ArrayList<>(falsified);
    problems.addAll(unknown);
    return new Verdict(
        valid,
        problems,
        rounds,
        seen.size(),
        lost,
        duplicated,
        outOfOrder,
        violations,
        faults,
        recoveries,
        outcome.paramsSha256(),
        referenceSha256,
        outcome.rejectedResults(),
        outcome.failure(),
        outcome.workersWanted(),
        outcome.workersAtEnd(),
        outcome.rejoins());
  }

  /**
   * Why the job ended with fewer workers than it was submitted with although its cluster was whole
   * again well before its end ({@link #REJOIN_GRACE_MILLIS}), or null: a node started again must
   * rejoin the job, not only the cluster.
   */
  static String understrength(History history, Outcome outcome) {
    if (!outcome.ended()
        || outcome.failure() != null
        || outcome.workersWanted() <= 0
        || outcome.workersAtEnd() < 0
        || outcome.workersAtEnd() >= outcome.workersWanted()) {
      return null;
    }
    long whole = -1;
    for (Op op : history.ops()) {
      if (op.type() == History.Type.INFO && op.fault().equals(WHOLE)) {
        whole = Math.max(whole, op.timeMillis());
      }
    }
    long lastCommit = -1;
    for (History.Sample s : history.samples()) {
      lastCommit = Math.max(lastCommit, s.timeMillis());
    }
    if (whole < 0 || lastCommit - whole < REJOIN_GRACE_MILLIS) {
      return null;
    }
    return "the job ended with "
        + outcome.workersAtEnd()
        + " of its "
        + outcome.workersWanted()
        + " workers although the cluster was whole "
        + (lastCommit - whole) / 1000
        + " s before its last round: restarted nodes did not rejoin the job";
  }

  /**
   * When the first round after the fault's was reported committed (durable) to the client; when the
   * client heard nothing after it, the journal's commit times (the coordinators' clocks, at the
   * round's computation) stand in. -1: no round followed.
   */
  private static long nextCommitAfter(History history, Op op) {
    for (History.Sample s : history.samples()) {
      if (s.timeMillis() > op.timeMillis() && s.round() > op.round()) {
        return s.timeMillis();
      }
    }
    long best = -1;
    for (Commit c : history.commits()) {
      if (c.timeMillis() > op.timeMillis() && (best < 0 || c.timeMillis() < best)) {
        best = c.timeMillis();
      }
    }
    return best;
  }

  /**
   * The longest gap between rounds the client heard committed that begins between {@code from} and
   * {@code until} (counted from {@code from} when it began before): 0 when progress never stalled,
   * -1 when nothing was heard after {@code from}.
   */
  static long longestStall(List<History.Sample> samples, long from, long until) {
    long longest = -1;
    long previous = Long.MIN_VALUE;
    for (History.Sample s : samples) {
      if (s.timeMillis() > from && previous != Long.MIN_VALUE && previous <= until) {
        longest = Math.max(longest, s.timeMillis() - Math.max(previous, from));
      }
      previous = s.timeMillis();
    }
    return longest;
  }

  /** How long the fault injected at ops[i] was active, to its heal; -1 if never healed. */
  private static long healedAfter(List<Op> ops, int i) {
    Op inject = ops.get(i);
    for (int j = i + 1; j < ops.size(); j++) {
      Op o = ops.get(j);
      if (o.type() == History.Type.HEAL
          && o.fault().equals(inject.fault())
          && o.target().equals(inject.target())) {
        return o.timeMillis() - inject.timeMillis();
      }
    }
    return -1;
  }
}
