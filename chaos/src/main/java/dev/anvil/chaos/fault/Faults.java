package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import dev.anvil.chaos.agent.NodeFaults;
import dev.anvil.chaos.scenario.FaultPlan;
import dev.anvil.runtime.launcher.FollowedJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Turns a scenario's fault entry into a {@link Fault} on targets resolved now. */
public final class Faults {
  private Faults() {}

  /** Whether the fault takes nodes away, so that it must wait for a whole cluster first. */
  public static boolean takesNodes(String type) {
    return switch (type) {
      case "kill-node",
          "pause-node",
          "leave-node",
          "partition",
          "kill-all",
          "kill-during-checkpoint" ->
          true;
      default -> false;
    };
  }

  public static Fault create(
      FaultPlan plan, ChaosCluster cluster, FollowedJob job, long seed, Duration restartTimeout) {
    SplittableRandom random = new SplittableRandom(seed);
    NodeFaults base = NodeFaults.NONE.withSeed(seed);
    return switch (plan.type()) {
      case "kill-node" ->
          new KillNode(
              cluster,
              atLeast(
                  plan.count(), targets(plan.target(), cluster, job, random), cluster, job, random),
              restartTimeout);
      case "pause-node" -> new PauseNode(cluster, targets(plan.target(), cluster, job, random));
      case "leave-node" ->
          new LeaveNode(cluster, targets(plan.target(), cluster, job, random), restartTimeout);
      case "partition" -> {
        List<Integer> minority =
            targets("minority", cluster, job, random).subList(0, plan.minority());
        List<Integer> majority = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
          if (!minority.contains(i)) {
            majority.add(i);
          }
        }
        yield new Partition(cluster, majority, minority, restartTimeout);
      }
      case "drop-messages" ->
          new InProcessFault(
              cluster,
              plan.type(),
              targets(plan.target(), cluster, job, random),
              base.withDrops(plan.fraction()));
      case "delay-messages" ->
          new InProcessFault(
              cluster,
              plan.type(),
              targets(plan.target(), cluster, job, random),
              base.withDelays(plan.fraction(), plan.delay().toMillis()));
      case "straggler" ->
          new InProcessFault(
              cluster,
              plan.type(),
              targets(plan.target(), cluster, job, random),
              base.withStall(plan.stall().toMillis()));
      case "bad-gradients" ->
          new InProcessFault(
              cluster,
              plan.type(),
              targets(plan.target(), cluster, job, random),
              base.withBadGradients(plan.kind(), plan.fraction()));
      case "database-outage" -> new DatabaseOutage();
      case "kill-all" -> new KillAll();
      case "kill-during-checkpoint" ->
          new KillDuringCheckpoint(
              cluster,
              job,
              targets(plan.target(), cluster, job, random).get(0),
              job.spec().checkpoint().everyRounds(),
              plan.stall(),
              restartTimeout);
      default -> throw new IllegalArgumentException("unknown fault type " + plan.type());
    };
  }

  /**
   * {@code chosen}, topped up to {@code count} nodes with others that do not host the job's
   * coordinator (in a seeded random order).
   */
  private static List<Integer> atLeast(
      int count,
      List<Integer> chosen,
      ChaosCluster cluster,
      FollowedJob job,
      SplittableRandom random) {
    List<Integer> out = new ArrayList<>(chosen);
    for (int n : targets("all-but-coordinator", cluster, job, random)) {
      if (out.size() >= count) {
        break;
      }
      if (!out.contains(n)) {
        out.add(n);
      }
    }
    return out;
  }

  /**
   * Nodes a target names: node-N; random (any node); coordinator (the node hosting the job's
   * coordinator); worker (a random node that does not host it); minority or majority (that many
   * nodes, the coordinator's node among the majority); all.
   */
  public static List<Integer> targets(
      String target, ChaosCluster cluster, FollowedJob job, SplittableRandom random) {
    int coordinator =
        job == null || job.coordinator() == null ? -1 : cluster.indexOf(job.coordinator());
    return targets(target, cluster.size(), coordinator, random);
  }

  /** As above, on {@code n} nodes of which {@code coordinator} (-1: not known) hosts the job's. */
  static List<Integer> targets(String target, int n, int coordinator, SplittableRandom random) {
    List<Integer> others = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (i != coordinator) {
        others.add(i);
      }
    }
    shuffle(others, random);
    switch (target) {
      case "random":
        return List.of(random.nextInt(n));
      case "coordinator":
        if (coordinator < 0) {
          throw new IllegalStateException("the job's coordinator is not known yet");
        }
        return List.of(coordinator);
      case "worker":
        return List.of(others.get(0));
      case "minority":
        return List.copyOf(others.subList(0, Math.max(1, (n - 1) / 2)));
      case "all-but-coordinator":
        return List.copyOf(others);
      case "majority":
        {
          List<Integer> m = new ArrayList<>();
          if (coordinator >= 0) {
            m.add(coordinator);
          }
          for (int i = 0; m.size() < n / 2 + 1; i++) {
            m.add(others.get(i));
          }
          return List.copyOf(m);
        }
      case "all":
        {
          List<Integer> all = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            all.add(i);
          }
          return all;
        }
      default:
        return List.of(Integer.parseInt(target.substring(5)) - 1);
    }
  }

  private static void shuffle(List<Integer> list, SplittableRandom random) {
    for (int i = list.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Integer t = list.get(i);
      list.set(i, list.get(j));
      list.set(j, t);
    }
  }
}
