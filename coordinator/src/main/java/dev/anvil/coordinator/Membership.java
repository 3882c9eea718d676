package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The cluster membership as a running job sees it: which events mean a node of its workers is lost
 * (unreachable, downed or removed, whichever comes first), back, or gone for good, and when a
 * prepared worker's node is a lost node's new incarnation.
 */
final class Membership {
  private Membership() {}

  /** Subscribes the coordinator to the membership events a running job acts on. */
  static void subscribe(CoordinatorContext c) {
    var subscriptions = Cluster.get(c.actor.getSystem()).subscriptions();
    subscriptions.tell(
        Subscribe.create(
            c.actor.messageAdapter(
                ClusterEvent.ReachabilityEvent.class, JobCoordinator.ReachabilityChanged::new),
            ClusterEvent.ReachabilityEvent.class));
    subscriptions.tell(
        Subscribe.create(
            c.actor.messageAdapter(
                ClusterEvent.MemberLeft.class, JobCoordinator.MemberLeaving::new),
            ClusterEvent.MemberLeft.class));
    subscriptions.tell(
        Subscribe.create(
            c.actor.messageAdapter(
                ClusterEvent.MemberRemoved.class, JobCoordinator.MemberGone::new),
            ClusterEvent.MemberRemoved.class));
    subscriptions.tell(
        Subscribe.create(
            c.actor.messageAdapter(ClusterEvent.MemberDowned.class, JobCoordinator.MemberDown::new),
            ClusterEvent.MemberDowned.class));
  }

  /**
   * A node became unreachable ({@code lose} it, "unreachable") or reachable again (the pool admits
   * its workers again); {@code self} when nothing else follows.
   */
  static Behavior<Command> reachability(
      JobCoordinator.ReachabilityChanged r,
      WorkerPool pool,
      BiFunction<UniqueAddress, String, Behavior<Command>> lose,
      Behavior<Command> self) {
    if (r.event() instanceof ClusterEvent.ReachableMember back) {
      pool.back(back.member().uniqueAddress());
    } else if (r.event() instanceof ClusterEvent.UnreachableMember u) {
      return lose.apply(u.member().uniqueAddress(), "unreachable");
    }
    return self;
  }

  /**
   * A node incarnation left the membership for good: unless it left gracefully it is lost
   * ("removed"), and the pool forgets it (its host:port stays marked for a rejoin).
   */
  static Behavior<Command> removed(
      JobCoordinator.MemberGone g,
      WorkerPool pool,
      BiFunction<UniqueAddress, String, Behavior<Command>> lose,
      Behavior<Command> self) {
    UniqueAddress node = g.event().member().uniqueAddress();
    Behavior<Command> next =
        g.event().previousStatus() == MemberStatus.exiting() ? self : lose.apply(node, "removed");
    pool.removed(node);
    return next;
  }

  /**
   * Records a {@code node-rejoined} recovery, completed by round {@code fromRound}, when the
   * prepared worker's node is back: an incarnation of its host:port was lost by this coordinator
   * incarnation, or this incarnation took the job over and the node's process started after the
   * previous incarnation's last commit (it was lost with it, or while the job had no coordinator).
   * Once per host:port and loss. Returns whether it did.
   */
  static boolean noteRejoin(JobRun run, Prepared p, UniqueAddress node, long fromRound) {
    boolean back =
        run.pool.rejoined(node)
            || run.inc.backAfterTakeOver(p.nodeStartedMillis(), () -> run.pool.firstFrom(node));
    if (!back) {
      return false;
    }
    long now = System.currentTimeMillis();
    long started = p.nodeStartedMillis() > 0 ? p.nodeStartedMillis() : now;
    String hostPort = WorkerPool.hostPort(node);
    run.recoveries.nodeRejoined(hostPort, node.longUid(), fromRound, started, now);
    run.c
        .log()
        .info(
            "job {}: node {} is back (new incarnation {}): worker {} takes part from" + " round {}",
            run.c.jobId,
            hostPort,
            node.longUid(),
            p.worker(),
            fromRound);
    return true;
  }
}
