package dev.anvil.chaos.scenario;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A chaos scenario file (HOCON): the cluster, the job, and the faults with their triggers (all of
 * them in {@link #faults}, in file order; those planned on the run's node count in {@link
 * #plannedFaults}). Every random choice (random times, random targets, which messages drop) derives
 * from one seed, so that a failing run can be replayed exactly with {@code --seed}.
 *
 * <pre>
 * scenario {
 *   name = kill-coordinator
 *   nodes = 3, slots-per-node = 1, workers = 3, seed = 1, timeout = 5m
 *   job = "jobs/chaos-mlp.conf"          # relative to this file
 *   faults = [
 *     { type = kill-node, target = coordinator, at-round = 1500, restart-after = 5s }
 *     { type = kill-node, target = worker, count = 2, at-progress = 0.6, min-nodes = 5 }
 *   ]
 * }
 * </pre>
 */
public record Scenario(
    String name,
    String description,
    int nodes,
    int slotsPerNode,
    int workers,
    long seed,
    Duration timeout,
    Path job,
    List<FaultPlan> faults,
    Path file) {

  /** Fault types a scenario may name. */
  public static final Set<String> TYPES =
      Set.of(
          "kill-node",
          "pause-node",
          "leave-node",
          "partition",
          "drop-messages",
          "delay-messages",
          "straggler",
          "bad-gradients",
          "database-outage",
          "kill-all",
          "kill-during-checkpoint");

  /** The most node JVMs a scenario may run. */
  public static final int MAX_NODES = 16;

  /** Targets a fault may name (besides node-N). */
  public static final Set<String> TARGETS =
      Set.of("random", "coordinator", "worker", "minority", "majority", "all");

  /** Reads and checks a scenario file; errors name the file, the field and what is allowed. */
  public static Scenario parse(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ScenarioException(file + ": no such scenario file");
    }
    Config root;
    try {
      root =
          ConfigFactory.parseFile(
              file.toFile(),
              ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false));
    } catch (ConfigException e) {
      throw new ScenarioException(file + ": not a readable HOCON file: " + e.getMessage());
    }
    if (!root.hasPath("scenario")) {
      throw new ScenarioException(file + ": no scenario { } block");
    }
    Fields f = new Fields(file, root.getConfig("scenario").resolve(), "scenario");
    String name = f.string("name", null);
    int nodes = f.integer("nodes", 3, 1, MAX_NODES);
    int slots = f.integer("slots-per-node", 1, 1, 64);
    int workers = f.integer("workers", nodes * slots, 1, nodes * slots);
    long seed = f.config().hasPath("seed") ? f.longValue("seed") : 1;
    Duration timeout = f.duration("timeout", Duration.ofMinutes(10));
    Path base = file.toAbsolutePath().getParent();
    Path job = base.resolve(f.string("job", null)).normalize();
    if (!Files.isRegularFile(job)) {
      throw new ScenarioException(
          file
              + ": scenario.job = "
              + f.string("job", null)
              + ": no such job file ("
              + job
              + "; paths are relative to the scenario file)");
    }
    List<FaultPlan> faults = new ArrayList<>();
    List<? extends Config> entries;
    try {
      entries = f.config().getConfigList("faults");
    } catch (ConfigException e) {
      throw new ScenarioException(
          file
              + ": scenario.faults: must be a list of { type = ... }"
              + " objects ("
              + e.getMessage()
              + ")");
    }
    for (int i = 0; i < entries.size(); i++) {
      faults.add(
          FaultPlan.parse(new Fields(file, entries.get(i), "scenario.faults[" + i + "]"), nodes));
    }
    return new Scenario(
        name,
        f.string("description", ""),
        nodes,
        slots,
        workers,
        seed,
        timeout,
        job,
        List.copyOf(faults),
        file);
  }

  /** The same scenario training another job file. */
  public Scenario withJob(Path job) {
    if (!Files.isRegularFile(job)) {
      throw new ScenarioException("--job = " + job + ": no such job file");
    }
    return new Scenario(
        name, description, nodes, slotsPerNode, workers, seed, timeout, job, faults, file);
  }

  /**
   * The same scenario on {@code nodes} nodes (workers: one per slot), with the fault entries
   * planned for that many.
   */
  public Scenario withNodes(int nodes) {
    if (nodes < 1 || nodes > MAX_NODES) {
      throw new ScenarioException(
          "--nodes = " + nodes + ": must be a whole number from 1 to " + MAX_NODES);
    }
    for (int i = 0; i < faults.size(); i++) {
      String problem = faults.get(i).appliesTo(nodes) ? faults.get(i).problemOn(nodes) : null;
      if (problem != null) {
        throw new ScenarioException(
            "--nodes = " + nodes + ": " + file + ": scenario.faults[" + i + "]." + problem);
      }
    }
    return new Scenario(
        name,
        description,
        nodes,
        slotsPerNode,
        nodes * slotsPerNode,
        seed,
        timeout,
        job,
        faults,
        file);
  }

  /** The fault entries planned on this scenario's node count (see {@link FaultPlan#appliesTo}). */
  public List<FaultPlan> plannedFaults() {
    return faults.stream().filter(f -> f.appliesTo(nodes)).toList();
  }

  public Scenario withSeed(long seed) {
    return new Scenario(
        name, description, nodes, slotsPerNode, workers, seed, timeout, job, faults, file);
  }

  /** A field reader that names the file and the field in every error. */
  record Fields(Path file, Config config, String path) {
    ScenarioException error(String key, Object value, String allowed) {
      return new ScenarioException(file + ": " + path + "." + key + " = " + value + ": " + allowed);
    }

    String string(String key, String fallback) {
      if (!config.hasPath(key)) {
        if (fallback == null) {
          throw new ScenarioException(file + ": " + path + "." + key + " is missing");
        }
        return fallback;
      }
      try {
        return config.getString(key);
      } catch (ConfigException e) {
        throw error(key, config.getValue(key).render(), "must be a string");
      }
    }

    int integer(String key, int fallback, int min, int max) {
      if (!config.hasPath(key)) {
        return fallback;
      }
      long v = longValue(key);
      if (v < min || v > max) {
        throw error(key, v, "must be a whole number from " + min + " to " + max);
      }
      return (int) v;
    }

    long longValue(String key) {
      try {
        return config.getLong(key);
      } catch (ConfigException e) {
        throw error(key, config.getValue(key).render(), "must be a whole number");
      }
    }

    boolean bool(String key, boolean fallback) {
      if (!config.hasPath(key)) {
        return fallback;
      }
      try {
        return config.getBoolean(key);
      } catch (ConfigException e) {
        throw error(key, config.getValue(key).render(), "must be on or off");
      }
    }

    double fraction(String key, double fallback) {
      if (!config.hasPath(key)) {
        return fallback;
      }
      double v;
      try {
        v = config.getDouble(key);
      } catch (ConfigException e) {
        throw error(key, config.getValue(key).render(), "must be a number from 0 to 1");
      }
      if (!(v >= 0 && v <= 1)) {
        throw error(key, v, "must be a number from 0 to 1");
      }
      return v;
    }

    Duration duration(String key, Duration fallback) {
      if (!config.hasPath(key)) {
        if (fallback == null) {
          throw new ScenarioException(
              file + ": " + path + "." + key + " is missing (a" + " duration such as 10s)");
        }
        return fallback;
      }
      Duration d;
      try {
        d = config.getDuration(key);
      } catch (ConfigException e) {
        throw error(
            key, config.getValue(key).render(), "must be a duration such as 10s or" + " 500ms");
      }
      if (d.isNegative()) {
        throw error(key, d, "must not be negative");
      }
      return d;
    }
  }
}
