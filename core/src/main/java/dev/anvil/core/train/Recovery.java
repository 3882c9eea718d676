package dev.anvil.core.train;

import dev.anvil.core.wire.AnvilSerializable;

/**
 * One recovery of a cluster run from a fault, as the coordinator saw it. Times are wall-clock
 * epoch milliseconds; 0 where a step does not apply.
 *
 * <ul>
 *   <li>{@code kind}: {@code node-unreachable} (a worker's node stopped answering heartbeats),
 *       {@code deadline} (work not back by the round's deadline), {@code node-left} (a node left
 *       the cluster gracefully), {@code coordinator-restart} (a new coordinator incarnation
 *       took over the job), {@code journal-outage} (the database did not record rounds for
 *       longer than the journal's acknowledgement timeout) or {@code node-rejoined} (a node the
 *       job had lost was started again and its workers are back in the job).</li>
 *   <li>{@code faultSeenMillis}: when the coordinator saw the fault; for a restart, when the new
 *       incarnation started (the old one's death is not observable from the new one: see
 *       {@code lastCommitBeforeMillis}); for a rejoin, when the node's new process started.</li>
 *   <li>{@code redispatchedMillis}: when the lost work was handed to live workers (for a
 *       restart: when the first round was dispatched again; for a rejoin: when its worker was
 *       admitted).</li>
 *   <li>{@code firstCommitMillis}: when the first round after the fault became durable.</li>
 *   <li>{@code redoneRounds}: committed rounds computed again (only a restart redoes any);
 *       {@code replayMillis} the time that took.</li>
 * </ul>
 */
public record Recovery(String kind, String detail, long faultSeenMillis,
    long redispatchedMillis, long firstCommitMillis, long lastCommitBeforeMillis,
    long redoneRounds, long replayMillis, int treeNodesRedispatched)
    implements AnvilSerializable {

  /** Fault seen to first durable round after it, in milliseconds. */
  public long recoveryMillis() {
    return firstCommitMillis - faultSeenMillis;
  }

  /** This recovery completed by the commit of a round at {@code millis}. */
  public Recovery committedAt(long millis) {
    return new Recovery(kind, detail, faultSeenMillis, redispatchedMillis, millis,
        lastCommitBeforeMillis, redoneRounds, replayMillis, treeNodesRedispatched);
  }

  String toJson() {
    return "{\"kind\": " + TrainingResult.quote(kind)
        + ", \"detail\": " + TrainingResult.quote(detail)
        + ", \"faultSeenMillis\": " + faultSeenMillis
        + ", \"redispatchedMillis\": " + redispatchedMillis
        + ", \"firstCommitMillis\": " + firstCommitMillis
        + ", \"recoveryMillis\": " + recoveryMillis()
        + ", \"lastCommitBeforeMillis\": " + lastCommitBeforeMillis
        + ", \"redoneRounds\": " + redoneRounds
        + ", \"replayMillis\": " + replayMillis
        + ", \"treeNodesRedispatched\": " + treeNodesRedispatched + "}";
  }
}
