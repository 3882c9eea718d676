package dev.anvil.coordinator;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The node incarnations a job has lost, keyed by unique address (host:port and uid), never by
 * host:port alone: a node killed and started again on the same host:port is a new incarnation whose
 * workers are admitted like a brand-new node's, while the lost incarnation's are not.
 *
 * <ul>
 *   <li>An incarnation is lost when it becomes unreachable or starts leaving, and forgiven when it
 *       becomes reachable again (a pause shorter than the downing decision).
 *   <li>Once removed from the cluster it cannot come back: it is forgotten, so the set stays as
 *       small as the nodes lost at once.
 *   <li>The first incarnation admitted at a host:port where an earlier one was lost is a rejoin,
 *       reported once ({@link #rejoined}).
 * </ul>
 *
 * Pure: no actors, no clock.
 */
final class LostNodes {
  private static final int MAX_GONE = 1024;
  private final Map<String, Set<Long>> lost = new HashMap<>();

  /** Uids removed from the cluster, oldest first. */
  private final java.util.LinkedHashSet<Long> gone = new java.util.LinkedHashSet<>();

  /** Host:ports where an incarnation was lost and none has rejoined since. */
  private final Set<String> awaitingRejoin = new HashSet<>();

  /** Host:ports whose first admitted worker was reported by {@link #firstFrom}. */
  private final Set<String> seen = new HashSet<>();

  /** The incarnation is unreachable, downed or leaving; returns whether that is news. */
  boolean lost(String hostPort, long uid) {
    if (gone.contains(uid)) {
      return false;
    }
    awaitingRejoin.add(hostPort);
    return lost.computeIfAbsent(hostPort, k -> new HashSet<>()).add(uid);
  }

  /**
   * What earlier coordinator incarnations of the job recorded, oldest first: a node lost and not
   * rejoined since is awaited, so that its next incarnation admitted counts as a rejoin.
   */
  void replay(java.util.List<dev.anvil.core.train.Recovery> recorded) {
    for (dev.anvil.core.train.Recovery r : recorded) {
      String hostPort = hostPortOf(r.detail());
      if (hostPort == null) {
        continue;
      }
      switch (r.kind()) {
        case "node-unreachable", "node-downed", "node-left" -> awaitingRejoin.add(hostPort);
        case "node-rejoined" -> awaitingRejoin.remove(hostPort);
        default -> {}
      }
    }
  }

  /** The incarnation is reachable again: it was not lost after all. */
  void back(String hostPort, long uid) {
    Set<Long> uids = lost.get(hostPort);
    if (uids != null && uids.remove(uid) && uids.isEmpty()) {
      lost.remove(hostPort);
      awaitingRejoin.remove(hostPort);
    }
  }

  /**
   * The incarnation left the membership for good: it is forgotten, but its uid is remembered as
   * gone so that a late event about it is no news (bounded: uids of removed members).
   */
  void removed(String hostPort, long uid) {
    Set<Long> uids = lost.get(hostPort);
    if (uids != null && uids.remove(uid) && uids.isEmpty()) {
      lost.remove(hostPort);
    }
    gone.add(uid);
    if (gone.size() > MAX_GONE) {
      gone.remove(gone.iterator().next());
    }
  }

  /** Whether a worker on this incarnation may be admitted to the job. */
  boolean admissible(String hostPort, long uid) {
    Set<Long> uids = lost.get(hostPort);
    return (uids == null || !uids.contains(uid)) && !gone.contains(uid);
  }

  /**
   * The host:port a recovery's detail begins with ("127.0.0.1:2552 (uid ...) unreachable ...", or,
   * as older coordinators wrote it, "pekko://anvil@127.0.0.1:2552 in round ..."), or null.
   */
  static String hostPortOf(String detail) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("^(?:[a-z]+://[^@\\s]+@)?([^\\s/@]+:\\d{1,5})(?:\\s|$)")
            .matcher(detail);
    return m.find() ? m.group(1) : null;
  }

  /**
   * Whether admitting a worker of this incarnation is a rejoin: an earlier incarnation at its
   * host:port was lost. True once per loss.
   */
  boolean rejoined(String hostPort, long uid) {
    if (!admissible(hostPort, uid)) {
      return false;
    }
    return awaitingRejoin.remove(hostPort);
  }

  /** Whether this is the first time a worker from {@code hostPort} is reported: once each. */
  boolean firstFrom(String hostPort) {
    return seen.add(hostPort);
  }
}
