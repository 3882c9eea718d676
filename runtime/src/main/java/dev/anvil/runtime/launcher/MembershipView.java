package dev.anvil.runtime.launcher;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;

/**
 * The membership as a launcher's client member sees it: snapshots for {@link Incarnations}, whether
 * every member has seen the newest view, and downing a node's dead incarnation. Reads are lock-free
 * snapshots of the client's own state; nothing here waits.
 */
final class MembershipView {
  private MembershipView() {}

  /** Every member in {@code client}'s view, as {@link Incarnations} reads them. */
  static List<Incarnations.Seen> members(ActorSystem<?> client) {
    CurrentClusterState state = Cluster.get(client).state();
    List<Incarnations.Seen> out = new ArrayList<>();
    for (Member m : state.getMembers()) {
      out.add(
          new Incarnations.Seen(
              m.address().getHost().orElse("?") + ":" + m.address().getPort().orElse(0),
              m.uniqueAddress().longUid(),
              m.status().toString(),
              m.hasRole("node"),
              !state.getUnreachable().contains(m)));
    }
    return out;
  }

  /** Whether every reachable Up member has seen {@code client}'s newest view of the membership. */
  static boolean converged(ActorSystem<?> client) {
    CurrentClusterState state = Cluster.get(client).state();
    for (Member m : state.getMembers()) {
      if (m.status() == MemberStatus.up()
          && !state.getUnreachable().contains(m)
          && !state.getSeenBy().contains(m.address())) {
        return false;
      }
    }
    return true;
  }

  /** Asks the cluster, through {@code client}, to down the member at {@code ports}' address. */
  static void down(ActorSystem<?> client, NodePorts ports) {
    Cluster.get(client)
        .manager()
        .tell(Down.apply(new Address("pekko", "anvil", NodePorts.HOST, ports.cluster())));
  }
}
