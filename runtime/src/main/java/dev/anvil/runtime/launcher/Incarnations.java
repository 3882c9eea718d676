package dev.anvil.runtime.launcher;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which cluster member is the live incarnation of each node a launcher started. A node JVM that is
 * killed and started again on the same host:port is a new member with a new unique id (uid); the
 * old one stays a member, {@code Up} but unreachable, until it is downed. Counting members by
 * host:port and status would count the dead incarnation as the node: so every uid ever seen at a
 * node's address while its process was gone is retired, and only a member with a uid not retired,
 * at the address of a running process, is that node.
 *
 * <p>Pure: fed snapshots of the membership ({@link Seen}), no actors, no clock.
 */
final class Incarnations {
  /** One member as seen in a membership snapshot. */
  record Seen(String hostPort, long uid, String status, boolean node, boolean reachable) {
    boolean up() {
      return status.equals("Up");
    }

    /** Downed, leaving or gone: no longer a live member. */
    boolean ending() {
      return switch (status) {
        case "Down", "Leaving", "Exiting", "Removed" -> true;
        default -> false;
      };
    }
  }

  private final List<String> addresses = new ArrayList<>();
  private final List<Boolean> running = new ArrayList<>();
  private final List<Set<Long>> retired = new ArrayList<>();

  /** Adds a node at {@code hostPort} whose process is being started; returns its index. */
  int add(String hostPort) {
    addresses.add(hostPort);
    running.add(true);
    retired.add(new HashSet<>());
    return addresses.size() - 1;
  }

  int size() {
    return addresses.size();
  }

  /** Node {@code index}'s process is being started again: a new uid there is its incarnation. */
  void launched(int index) {
    running.set(index, true);
  }

  /**
   * Node {@code index}'s process is gone: every uid at its address in {@code members} is dead.
   * Returns those newly retired that are still members and not on their way out, to be downed (once
   * each).
   */
  List<Seen> retire(int index, List<Seen> members) {
    running.set(index, false);
    List<Seen> toDown = new ArrayList<>();
    for (Seen m : members) {
      if (m.hostPort().equals(addresses.get(index))
          && retired.get(index).add(m.uid())
          && !m.ending()) {
        toDown.add(m);
      }
    }
    return toDown;
  }

  boolean retired(int index, long uid) {
    return retired.get(index).contains(uid);
  }

  /** The live incarnation of node {@code index} in {@code members}, or null. */
  Seen current(int index, List<Seen> members) {
    if (!running.get(index)) {
      return null;
    }
    for (Seen m : members) {
      if (m.hostPort().equals(addresses.get(index))
          && !retired.get(index).contains(m.uid())
          && m.node()) {
        return m;
      }
    }
    return null;
  }

  /** Whether node {@code index}'s live incarnation is Up and reachable. */
  boolean up(int index, List<Seen> members) {
    Seen m = current(index, members);
    return m != null && m.up() && m.reachable();
  }

  /** Nodes whose live incarnation is Up and reachable. */
  int countUp(List<Seen> members) {
    int n = 0;
    for (int i = 0; i < addresses.size(); i++) {
      if (up(i, members)) {
        n++;
      }
    }
    return n;
  }
}
