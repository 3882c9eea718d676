package dev.anvil.coordinator;

import dev.anvil.core.train.Recovery;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A job's recoveries: each fault the coordinator handles becomes a pending {@link Recovery},
 * complete with the first durable round after it. The factories name every kind the coordinator
 * records; completion and the journal's acknowledgements are tracked here, the telling is the
 * actor's.
 */
final class Recoveries {
  /** A recovery that completes when round {@code round} is durable. */
  private record Pending(Recovery recovery, long round) {}

  private final List<Pending> pending = new ArrayList<>();
  private final List<Recovery> done = new ArrayList<>();
  private final List<Recovery> unacked = new ArrayList<>();

  /** With the recoveries earlier incarnations recorded. */
  Recoveries(List<Recovery> recorded) {
    done.addAll(recorded);
  }

  /** Round {@code round} (1-based) missed its deadline; {@code late} workers were behind. */
  void deadline(
      long round, List<String> late, long lastHeard, long now, long lastCommit, int redispatched) {
    add(
        Recovery.seen(
            "deadline",
            "round " + round + ": " + late + " late",
            lastHeard,
            now,
            lastCommit,
            redispatched),
        round);
  }

  /**
   * A worker failed a data-plane round ({@code why}: its connection closed or was refused, it sent
   * what the round does not expect): its tree nodes went to the others over Artery at once.
   */
  void planePeer(
      long round, String worker, String why, long lastHeard, long now, long lastCommit, int nodes) {
    add(
        Recovery.seen(
            "plane-peer",
            "round " + round + ": " + worker + ": " + why,
            lastHeard,
            now,
            lastCommit,
            nodes),
        round);
  }

  /** A node incarnation was lost ({@code how}: unreachable, downed, removed) in a round. */
  void nodeLost(
      String hostPort,
      long uid,
      String how,
      long round,
      int workers,
      long lastHeard,
      long now,
      long lastCommit,
      int redispatched) {
    add(
        Recovery.seen(
            how.equals("unreachable") ? "node-unreachable" : "node-downed",
            hostPort
                + " (uid "
                + uid
                + ") "
                + how
                + " in round "
                + round
                + ", "
                + workers
                + " workers",
            lastHeard,
            now,
            lastCommit,
            redispatched),
        round);
  }

  /** A node left gracefully after round {@code after}; the others go on from the next. */
  void nodeLeft(String hostPort, long uid, long after, int workers, long now, long lastCommit) {
    add(
        Recovery.seen(
            "node-left",
            hostPort + " (uid " + uid + ") after round " + after + ", " + workers + " workers",
            0,
            now,
            lastCommit,
            0),
        after + 2);
  }

  /** A worker's result in round {@code round} (1-based) was rejected. */
  void badGradient(long round, String worker, String problem, long now, long lastCommit) {
    add(
        Recovery.seen(
            "bad-gradient",
            "round " + round + ": worker " + worker + " returned " + problem,
            0,
            now,
            lastCommit,
            1),
        round);
  }

  /** The journal recorded no rounds from {@code sinceMillis}; it did again up to {@code last}. */
  void journalOutage(long sinceMillis, long lastAckMillis, long now, long last) {
    add(
        Recovery.seen(
            "journal-outage",
            "the journal did not record rounds for " + (now - sinceMillis) + " ms",
            lastAckMillis,
            sinceMillis,
            lastAckMillis,
            0),
        last);
  }

  /**
   * A lost node's new incarnation (its process started at {@code startedMillis}) is back, its
   * worker admitted at {@code now}, taking part from round {@code fromRound}.
   */
  void nodeRejoined(String hostPort, long uid, long fromRound, long startedMillis, long now) {
    add(
        new Recovery(
            "node-rejoined",
            hostPort
                + " (a new incarnation, uid "
                + uid
                + ") is back in the job from round "
                + fromRound
                + "; its process started "
                + (now - startedMillis)
                + " ms before its worker was admitted",
            0,
            startedMillis,
            now,
            0,
            0,
            0,
            0,
            0),
        fromRound);
  }

  /**
   * A new coordinator incarnation restored the job (what it did is {@code detail}) and recomputed
   * {@code redone} rounds in {@code replayMillis}; complete with round {@code nextRound}.
   */
  void coordinatorRestart(
      String detail,
      long lastCommitMillis,
      long startedMillis,
      long resumedMillis,
      long redone,
      long replayMillis,
      long nextRound) {
    add(
        new Recovery(
            "coordinator-restart",
            detail,
            lastCommitMillis,
            startedMillis,
            resumedMillis,
            0,
            lastCommitMillis,
            redone,
            replayMillis,
            0),
        nextRound);
  }

  private void add(Recovery r, long round) {
    pending.add(new Pending(r, round));
  }

  /** Whether a recovery waits for a durable round. */
  boolean waiting() {
    return !pending.isEmpty();
  }

  /**
   * Completes the recoveries waiting for a round up to {@code last} and returns them. Each is
   * complete at the time the journal records for the round it waited for ({@code committedMillis},
   * by round), or when the work was handed out again if that is later (rounds computed during a
   * journal outage became durable only after it); at {@code now} for a round not in {@code
   * committedMillis}.
   */
  List<Recovery> complete(long last, Map<Long, Long> committedMillis, long now) {
    List<Recovery> completed = new ArrayList<>();
    var it = pending.iterator();
    while (it.hasNext()) {
      Pending p = it.next();
      if (p.round() <= last) {
        it.remove();
        Recovery r =
            p.recovery()
                .committedAt(
                    Math.max(
                        committedMillis.getOrDefault(p.round(), now),
                        p.recovery().redispatchedMillis()));
        completed.add(r);
      }
    }
    done.addAll(completed);
    unacked.addAll(completed);
    return completed;
  }

  /** The journal recorded the oldest unacknowledged recovery; whether others still wait. */
  boolean acknowledged() {
    if (!unacked.isEmpty()) {
      unacked.remove(0);
    }
    return !unacked.isEmpty();
  }

  /** Recoveries sent to the journal and not acknowledged yet, oldest first. */
  List<Recovery> unacknowledged() {
    return List.copyOf(unacked);
  }

  /** Every complete recovery: earlier incarnations' first. */
  List<Recovery> all() {
    return List.copyOf(done);
  }
}
