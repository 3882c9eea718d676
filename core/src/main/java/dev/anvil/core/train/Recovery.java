package dev.anvil.core.train;

import dev.anvil.core.wire.AnvilSerializable;

/**
 * One recovery of a cluster run from a fault, as the coordinator saw it. Times are wall-clock epoch
 * milliseconds; 0 where a step does not apply.
 *
 * <ul>
 *   <li>{@code kind}: {@code node-unreachable} (a worker's node stopped answering heartbeats),
 *       {@code node-downed} (the cluster downed a worker's node, e.g. its process exited), {@code
 *       deadline} (work not back by the round's deadline), {@code node-left} (a node left the
 *       cluster gracefully), {@code bad-gradient} (a result failed its checks), {@code
 *       coordinator-restart} (a new coordinator incarnation took over the job), {@code
 *       journal-outage} (the database did not record rounds for longer than the journal's
 *       acknowledgement timeout) or {@code node-rejoined} (a node the job had lost was started
 *       again and its workers are back in the job).
 *   <li>{@code lastHeardMillis}: the last sign of life of what failed, so the fault happened after
 *       it: the last result from the lost or late workers, the previous coordinator's last
 *       journaled round, the journal's last acknowledgement. 0 when there is none (a graceful
 *       leave, a bad result, a rejoin).
 *   <li>{@code faultSeenMillis}: when the coordinator saw the fault; for a restart, when the new
 *       incarnation started; for a rejoin, when the node's new process started.
 *   <li>{@code redispatchedMillis}: when the lost work was handed to live workers (for a restart:
 *       when the first round was dispatched again; for a rejoin: when its worker was admitted).
 *   <li>{@code firstCommitMillis}: when the first round after the fault was committed: the time the
 *       journal records for it (for a journal outage, when the journal recorded rounds again).
 *   <li>{@code lastCommitBeforeMillis}: when the last round committed before the fault was (the
 *       time the journal records for it).
 *   <li>{@code redoneRounds}: committed rounds computed again (only a restart redoes any); {@code
 *       replayMillis} the time that took.
 * </ul>
 *
 * <p>Three spans follow: {@link #detectMillis()} (last sign of life to detection), {@link
 * #recoveryMillis()} (detection to the first commit after it) and {@link #stallMillis()} (the gap
 * users feel: last commit before the fault to the first commit after it).
 */
public record Recovery(
    String kind,
    String detail,
    long lastHeardMillis,
    long faultSeenMillis,
    long redispatchedMillis,
    long firstCommitMillis,
    long lastCommitBeforeMillis,
    long redoneRounds,
    long replayMillis,
    int treeNodesRedispatched)
    implements AnvilSerializable {

  /**
   * A fault seen at {@code seenMillis} and handled at once (its work handed out then); it completes
   * with a later commit ({@link #committedAt(long)}).
   */
  public static Recovery seen(
      String kind,
      String detail,
      long lastHeardMillis,
      long seenMillis,
      long lastCommitBeforeMillis,
      int treeNodesRedispatched) {
    return new Recovery(
        kind,
        detail,
        lastHeardMillis,
        seenMillis,
        seenMillis,
        0,
        lastCommitBeforeMillis,
        0,
        0,
        treeNodesRedispatched);
  }

  /** Detection to the first commit after it, in milliseconds: the recovery's own time. */
  public long recoveryMillis() {
    return firstCommitMillis - faultSeenMillis;
  }

  /** Last sign of life of what failed to its detection; 0 when unknown. */
  public long detectMillis() {
    return lastHeardMillis > 0 ? faultSeenMillis - lastHeardMillis : 0;
  }

  /** Last commit before the fault to the first commit after it; 0 when unknown. */
  public long stallMillis() {
    return lastCommitBeforeMillis > 0 && firstCommitMillis > 0
        ? firstCommitMillis - lastCommitBeforeMillis
        : 0;
  }

  /** What the recovery cost, in words: the stall, then detection and the recovery itself. */
  public String costs() {
    return "training stalled "
        + stallMillis()
        + " ms (detected after "
        + detectMillis()
        + " ms, recovered "
        + recoveryMillis()
        + " ms after that)";
  }

  /** This recovery completed by the commit of a round at {@code millis}. */
  public Recovery committedAt(long millis) {
    return new Recovery(
        kind,
        detail,
        lastHeardMillis,
        faultSeenMillis,
        redispatchedMillis,
        millis,
        lastCommitBeforeMillis,
        redoneRounds,
        replayMillis,
        treeNodesRedispatched);
  }

  String toJson() {
    return "{\"kind\": "
        + TrainingResult.quote(kind)
        + ", \"detail\": "
        + TrainingResult.quote(detail)
        + ", \"detectMillis\": "
        + detectMillis()
        + ", \"recoveryMillis\": "
        + recoveryMillis()
        + ", \"stallMillis\": "
        + stallMillis()
        + ", \"lastHeardMillis\": "
        + lastHeardMillis
        + ", \"faultSeenMillis\": "
        + faultSeenMillis
        + ", \"redispatchedMillis\": "
        + redispatchedMillis
        + ", \"firstCommitMillis\": "
        + firstCommitMillis
        + ", \"lastCommitBeforeMillis\": "
        + lastCommitBeforeMillis
        + ", \"redoneRounds\": "
        + redoneRounds
        + ", \"replayMillis\": "
        + replayMillis
        + ", \"treeNodesRedispatched\": "
        + treeNodesRedispatched
        + "}";
  }
}
