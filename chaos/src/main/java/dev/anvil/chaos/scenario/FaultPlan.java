package dev.anvil.chaos.scenario;

import java.time.Duration;
import java.util.TreeSet;

/**
 * One fault entry of a scenario: its type, target and trigger, how long it lasts before it is
 * healed ({@code duration}; for kill-node and leave-node, the time before the node is started
 * again), the type's own parameters, and the cluster sizes it is planned on.
 *
 * @param fraction share of requests dropped or delayed, or of results made bad
 * @param delay how late delayed requests arrive
 * @param stall a straggler's extra time per tree node; kill-during-checkpoint's write hold-up
 * @param kind bad-gradients: nan, inf or wrong-length
 * @param minority partition: size of the smaller side
 * @param count kill-node: how many nodes at once, the target first and then others that do not host
 *     the coordinator (at most (nodes - 1) / 2, so that a majority remains)
 * @param minNodes the fewest nodes a run may have for this entry to be planned
 * @param maxNodes the most; on other cluster sizes ({@code --nodes}) the entry is left out
 * @param awaitRejoin kill-node, leave-node: once the nodes are started again, the run goes on only
 *     when the job has put each one's workers back (its {@code node-rejoined}), or a deadline
 *     passed
 */
public record FaultPlan(
    String type,
    String target,
    Trigger trigger,
    Duration duration,
    double fraction,
    Duration delay,
    Duration stall,
    String kind,
    int minority,
    int count,
    int minNodes,
    int maxNodes,
    boolean awaitRejoin) {

  /** Whether the entry is planned on a run of {@code nodes} nodes. */
  public boolean appliesTo(int nodes) {
    return nodes >= minNodes && nodes <= maxNodes;
  }

  /**
   * What keeps this entry from running on {@code nodes} nodes, as "field = value: why", or null
   * when nothing does.
   */
  String problemOn(int nodes) {
    if (target.matches("node-\\d+")) {
      int n = Integer.parseInt(target.substring(5));
      if (n < 1 || n > nodes) {
        return "target = " + target + ": the scenario has nodes 1.." + nodes;
      }
    }
    if (type.equals("partition") && nodes < 3) {
      return "type = partition: a partition needs at least 3 nodes (a majority to keep)";
    }
    int most = Math.max(1, (nodes - 1) / 2);
    if (count > most) {
      return "count = "
          + count
          + ": must be a whole number from 1 to "
          + most
          + " on "
          + nodes
          + " nodes (a majority must remain)";
    }
    return null;
  }

  static FaultPlan parse(Scenario.Fields f, int nodes) {
    String type = f.string("type", null);
    if (!Scenario.TYPES.contains(type)) {
      throw f.error("type", type, "must be one of " + new TreeSet<>(Scenario.TYPES));
    }
    String target =
        f.string("target", type.equals("kill-during-checkpoint") ? "coordinator" : "random");
    if (!Scenario.TARGETS.contains(target) && !target.matches("node-\\d+")) {
      throw f.error(
          "target",
          target,
          "must be node-N (1.." + nodes + ") or one of " + new TreeSet<>(Scenario.TARGETS));
    }
    Trigger trigger = trigger(f);
    boolean lasting = !type.equals("kill-all") && !type.equals("kill-during-checkpoint");
    boolean restarts = type.equals("kill-node") || type.equals("leave-node");
    Duration duration =
        f.duration(
            restarts ? "restart-after" : "duration",
            lasting ? Duration.ofSeconds(10) : Duration.ZERO);
    String kind = f.string("kind", "nan");
    if (!kind.equals("nan") && !kind.equals("inf") && !kind.equals("wrong-length")) {
      throw f.error("kind", kind, "must be nan, inf or wrong-length");
    }
    int minority =
        f.integer("minority", Math.max(1, (nodes - 1) / 2), 1, Math.max(1, (nodes - 1) / 2));
    if (f.config().hasPath("count") && !type.equals("kill-node")) {
      throw f.error(
          "count", f.config().getValue("count").unwrapped(), "only kill-node takes a count");
    }
    int count = f.integer("count", 1, 1, Scenario.MAX_NODES);
    if (f.config().hasPath("await-rejoin") && !restarts) {
      throw f.error(
          "await-rejoin",
          f.config().getValue("await-rejoin").unwrapped(),
          "only kill-node and leave-node take await-rejoin");
    }
    int minNodes = f.integer("min-nodes", 1, 1, Scenario.MAX_NODES);
    int maxNodes = f.integer("max-nodes", Scenario.MAX_NODES, minNodes, Scenario.MAX_NODES);
    double fraction = f.fraction("fraction", type.equals("bad-gradients") ? 1.0 : 0.3);
    Duration delay = f.duration("delay", Duration.ofMillis(200));
    Duration stall =
        f.duration(
            "stall",
            type.equals("kill-during-checkpoint") ? Duration.ofSeconds(4) : Duration.ofMillis(20));
    FaultPlan plan =
        new FaultPlan(
            type,
            target,
            trigger,
            duration,
            fraction,
            delay,
            stall,
            kind,
            minority,
            count,
            minNodes,
            maxNodes,
            f.bool("await-rejoin", false));
    String problem = plan.appliesTo(nodes) ? plan.problemOn(nodes) : null;
    if (problem != null) {
      throw new ScenarioException(f.file() + ": " + f.path() + "." + problem);
    }
    return plan;
  }

  private static Trigger trigger(Scenario.Fields f) {
    var c = f.config();
    int given =
        (c.hasPath("at-round") ? 1 : 0)
            + (c.hasPath("at-progress") ? 1 : 0)
            + (c.hasPath("at-time") ? 1 : 0)
            + (c.hasPath("every") ? 1 : 0)
            + (c.hasPath("random") ? 1 : 0);
    if (given != 1) {
      throw new ScenarioException(
          f.file()
              + ": "
              + f.path()
              + ": give exactly one trigger:"
              + " at-round = N, at-progress = 0.3, at-time = 30s, every = 20s (with times = K),"
              + " or random { mean-interval = 20s, times = K }");
    }
    if (c.hasPath("at-round")) {
      long round = f.longValue("at-round");
      if (round < 1) {
        throw f.error("at-round", round, "must be a round >= 1");
      }
      return new Trigger.AtRound(round);
    }
    if (c.hasPath("at-progress")) {
      return new Trigger.AtProgress(f.fraction("at-progress", 0));
    }
    if (c.hasPath("at-time")) {
      return new Trigger.AtTime(f.duration("at-time", null));
    }
    int times = f.integer("times", 1, 1, 1000);
    Duration start = f.duration("start", Duration.ZERO);
    if (c.hasPath("every")) {
      Duration every = f.duration("every", null);
      if (every.isZero()) {
        throw f.error("every", every, "must be a positive duration");
      }
      return new Trigger.Every(c.hasPath("start") ? start : every, every, times);
    }
    Scenario.Fields r = new Scenario.Fields(f.file(), c.getConfig("random"), f.path() + ".random");
    Duration mean = r.duration("mean-interval", null);
    if (mean.isZero()) {
      throw r.error("mean-interval", mean, "must be a positive duration");
    }
    return new Trigger.Random(
        r.duration("start", Duration.ZERO), mean, r.integer("times", 1, 1, 1000));
  }
}
