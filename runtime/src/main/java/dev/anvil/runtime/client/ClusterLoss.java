package dev.anvil.runtime.client;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Tells a member (a client, or a node following its own jobs) that it has lost the cluster, so that
 * nothing waits on a cluster that will never answer. {@link #lost()} completes, once, with a
 * sentence naming what was lost, when:
 *
 * <ul>
 *   <li>this member was downed or removed by the cluster (the split-brain resolver or an operator),
 *       or it is leaving;
 *   <li>its actor system terminated;
 *   <li>no reachable member of role {@code node} has been seen for {@code anvil.client.lost-after}
 *       (15 s), counted from the later of this extension's start and the last time one was;
 *   <li>a launcher reports it ({@link #report}: every node process it started has exited).
 * </ul>
 *
 * The membership is read every 250 ms from the member's own view. A hint (where the node logs are)
 * may be set, and is added to the sentence.
 */
public final class ClusterLoss implements Extension {
  private static final ExtensionId<ClusterLoss> ID =
      new ExtensionId<>() {
        @Override
        public ClusterLoss createExtension(ActorSystem<?> system) {
          return new ClusterLoss(system);
        }
      };

  private static final Duration POLL = Duration.ofMillis(250);

  private enum Tick {
    INSTANCE
  }

  private final ActorSystem<?> system;
  private final CompletableFuture<String> lost = new CompletableFuture<>();

  /** Futures to fail when the cluster is lost; each leaves the set when it completes. */
  private final java.util.Set<CompletableFuture<?>> waiting =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final Duration lostAfter;
  private volatile String hint = "";

  private ClusterLoss(ActorSystem<?> system) {
    this.system = system;
    this.lostAfter = system.settings().config().getDuration("anvil.client.lost-after");
    if (lostAfter.isNegative() || lostAfter.isZero()) {
      throw new IllegalArgumentException(
          "anvil.client.lost-after = " + lostAfter + ": must be a positive duration");
    }
    system
        .getWhenTerminated()
        .thenRun(
            () ->
                report(
                    downed()
                        ? "this "
                            + role()
                            + " ("
                            + system.address().hostPort()
                            + ") was downed by the cluster"
                            + " and has shut down; it can no longer follow its jobs"
                        : "the actor system of this " + role() + " terminated"));
    Judge judge = new Judge(lostAfter, System.nanoTime());
    system.systemActorOf(
        Behaviors.<Tick>withTimers(
            timers -> {
              timers.startTimerWithFixedDelay(Tick.INSTANCE, POLL);
              return Behaviors.receiveMessage(
                  t -> {
                    check(judge);
                    return lost.isDone() ? Behaviors.stopped() : Behaviors.same();
                  });
            }),
        "anvil-cluster-loss",
        Props.empty());
  }

  public static ClusterLoss get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Completes with what was lost; never completes while the cluster is there. */
  public CompletionStage<String> lost() {
    return lost;
  }

  /** Whether the cluster was lost (the reason is in {@link #lost()}). */
  public boolean isLost() {
    return lost.isDone();
  }

  /** Adds {@code text} (e.g. "node logs in DIR") to the reason when the cluster is lost. */
  public void hint(String text) {
    this.hint = text == null || text.isBlank() ? "" : "; " + text;
  }

  /** Reports the cluster lost, for a reason this member cannot see by itself. */
  public void report(String reason) {
    if (lost.complete(reason + hint)) {
      for (CompletableFuture<?> f : waiting) {
        f.completeExceptionally(new ClusterLostException(lost.join()));
      }
    }
  }

  /**
   * Fails {@code answer} with a {@link ClusterLostException} if the cluster is lost before it
   * completes (at once if it is lost already). Holds on to it only until it completes.
   */
  public void endOnLoss(CompletableFuture<?> answer) {
    waiting.add(answer);
    answer.whenComplete((v, e) -> waiting.remove(answer));
    if (lost.isDone()) {
      answer.completeExceptionally(new ClusterLostException(lost.join()));
    }
  }

  private void check(Judge judge) {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    boolean reachableNode = false;
    for (Member m : state.getMembers()) {
      reachableNode |=
          m.hasRole("node")
              && m.status() == MemberStatus.up()
              && !state.getUnreachable().contains(m);
    }
    String why = judge.observe(cluster.selfMember().status(), reachableNode, System.nanoTime());
    if (why != null) {
      report(
          why.replace("{self}", "this " + role() + " (" + system.address().hostPort() + ")")
              .replace("{members}", describe(state)));
    }
  }

  /**
   * The decision, apart from the actor system (tested alone): from the member's own status and
   * whether it sees a reachable Up node, at a given time, whether the cluster is lost and why.
   */
  static final class Judge {
    private final Duration lostAfter;
    private long lastNodeSeen;

    Judge(Duration lostAfter, long nowNanos) {
      this.lostAfter = lostAfter;
      this.lastNodeSeen = nowNanos;
    }

    /** Null while the cluster is there; else why it is lost ({self}, {members}: filled in). */
    String observe(MemberStatus self, boolean reachableNode, long nowNanos) {
      if (self == MemberStatus.down() || self == MemberStatus.removed()) {
        return "{self} was downed by the cluster; it can no longer follow its jobs";
      }
      if (self == MemberStatus.leaving() || self == MemberStatus.exiting()) {
        return "{self} is leaving the cluster";
      }
      if (reachableNode || self != MemberStatus.up() && self != MemberStatus.weaklyUp()) {
        lastNodeSeen = nowNanos; // a node is there, or this member is still joining
        return null;
      }
      if (nowNanos - lastNodeSeen > lostAfter.toNanos()) {
        return "no reachable node in the cluster for "
            + lostAfter.toSeconds()
            + " s (members: {members})";
      }
      return null;
    }
  }

  private boolean downed() {
    MemberStatus self = Cluster.get(system).selfMember().status();
    return self == MemberStatus.down() || self == MemberStatus.removed();
  }

  private String role() {
    return Cluster.get(system).selfMember().hasRole("node") ? "node" : "client";
  }

  private static String describe(org.apache.pekko.cluster.ClusterEvent.CurrentClusterState s) {
    StringBuilder sb = new StringBuilder();
    for (Member m : s.getMembers()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(m.address().hostPort())
          .append(' ')
          .append(m.status())
          .append(s.getUnreachable().contains(m) ? " unreachable" : "");
    }
    return sb.length() == 0 ? "none" : sb.toString();
  }
}
