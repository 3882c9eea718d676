package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.persistence.CheckpointStore;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Part 2 of CheckpointBench, what checkpoints cost in training time: a {@link LocalCluster} of 2
 * node JVMs x 1 worker slot (as ClusterThroughputBench), jobs on {@link #WORKERS} workers. Each
 * model's job runs in every {@link CheckpointMode#MEASURED} mode, interleaved, R repeats, after
 * untimed warm-up jobs ({@link CheckpointMode#WARM_UP}). Figure: the result's {@code trainSeconds}
 * (sum of the round times). A job's checkpoint figures are what the nodes' {@code /metrics}
 * recorded while it ran (jobs run one at a time): read before it is submitted and once its last
 * checkpoint is stored (a job can end while that write is under way).
 */
final class ClusterCheckpointCost {
  /** Workers of every job (the direct part's checkpoints name as many). */
  static final int WORKERS = 2;

  private static final long JOB_TIMEOUT_MINUTES = 15;

  /** How long a job's last checkpoint may take to be stored after the job ended. */
  private static final long LAST_CHECKPOINT_SECONDS = 20;

  /** One cluster job's figures; trainSeconds NaN when it failed. */
  record Run(
      CheckpointMode mode,
      int rep,
      double trainSeconds,
      long rounds,
      String hash,
      CheckpointMeters checkpoints,
      double journalMs,
      double roundsPerWrite) {
    static Run failed(CheckpointMode mode, int rep, long rounds) {
      return new Run(
          mode, rep, Double.NaN, rounds, null, CheckpointMeters.NONE, Double.NaN, Double.NaN);
    }

    boolean ok() {
      return !Double.isNaN(trainSeconds);
    }
  }

  private final LocalCluster cluster;
  private final CheckpointBenchOptions options;

  /** Reads which checkpoints are stored (rows only, never their bytes). */
  private final CheckpointStore stored;

  private int jobs;
  private boolean failed;

  private ClusterCheckpointCost(
      LocalCluster cluster, CheckpointBenchOptions options, CheckpointStore stored) {
    this.cluster = cluster;
    this.options = options;
    this.stored = stored;
  }

  /** Runs every model's jobs; a failed job is said and counted as failed, the rest go on. */
  static Map<BenchModel, List<Run>> measure(CheckpointBenchOptions options) throws IOException {
    Path dir = Files.createTempDirectory("anvil-bench-checkpoint-cluster");
    long t0 = System.nanoTime();
    LocalClusterSettings settings = LocalClusterSettings.of(2, 1, dir);
    if (options.checkpointFiles()) {
      settings =
          settings.withCommonJvmOptions(
              List.of("-Danvil.checkpoint.directory=" + dir.resolve("checkpoints")));
    }
    LocalCluster cluster = LocalCluster.start(settings);
    Console.say(
        "cluster up in %.1f s (data folder %s); checkpoint figures from the nodes'"
            + " /metrics; checkpoints %s",
        (System.nanoTime() - t0) / 1e9,
        dir,
        options.checkpointFiles()
            ? "as files in " + dir.resolve("checkpoints")
            : "in the anvil_checkpoint table");
    boolean failed = true;
    try (CheckpointStore stored = new CheckpointStore(cluster.database())) {
      ClusterCheckpointCost cost = new ClusterCheckpointCost(cluster, options, stored);
      Map<BenchModel, List<Run>> runs = cost.all();
      failed = cost.failed;
      Console.say("left in the database: %s", tableSizes(cluster.database()));
      return runs;
    } finally {
      cluster.close();
      if (failed) {
        Console.say("(a cluster job failed: node logs kept in %s)", dir);
      } else {
        Console.deleteTree(dir);
      }
    }
  }

  private Map<BenchModel, List<Run>> all() {
    Map<BenchModel, List<Run>> out = new LinkedHashMap<>();
    for (BenchModel m : options.models()) {
      out.put(m, new ArrayList<>());
      for (CheckpointMode mode : CheckpointMode.WARM_UP) {
        Run w = run(m, mode, 0, m.warmupRounds(), "warm-up");
        Console.say("warm-up  %-5s %-14s %s", m.name(), mode.label(), line(w));
      }
    }
    for (int rep = 1; rep <= options.repeats(); rep++) {
      Console.say("rep %d/%d  load average %.2f", rep, options.repeats(), Console.loadAverage());
      for (BenchModel m : options.models()) {
        for (CheckpointMode mode : CheckpointMode.MEASURED) {
          Run r = run(m, mode, rep, m.rounds(), "bench");
          out.get(m).add(r);
          Console.say(
              "rep %d/%d  %-5s %-14s %s", rep, options.repeats(), m.name(), mode.label(), line(r));
        }
      }
    }
    return out;
  }

  private Run run(BenchModel m, CheckpointMode mode, int rep, int rounds, String kind) {
    String jobId =
        String.format(
            Locale.ROOT,
            "ckpt-%s-%s-%s-%d-%d",
            kind,
            m.name(),
            mode.tag(),
            ++jobs,
            ProcessHandle.current().pid());
    try {
      CheckpointMeters before = CheckpointMeters.scrape(cluster.httpUrls());
      JsonNode r =
          ClusterJobs.run(
              cluster,
              jobId,
              m.spec(kind + "-" + m.name(), rounds, mode, options.optimizer()),
              WORKERS,
              JOB_TIMEOUT_MINUTES);
      if (r == null) {
        failed = true;
        return Run.failed(mode, rep, rounds);
      }
      awaitStored(jobId, mode.lastCheckpoint(rounds));
      sleep(1000); // lets the machine settle before the next job
      CheckpointMeters during = CheckpointMeters.scrape(cluster.httpUrls()).minus(before);
      JsonNode split = r.path("roundTimeSplitMs");
      return new Run(
          mode,
          rep,
          r.path("trainSeconds").asDouble(Double.NaN),
          r.path("rounds").asLong(),
          r.path("paramsSha256").asText(null),
          during,
          split.path("journalWrite").asDouble(Double.NaN),
          split.path("roundsPerJournalWrite").asDouble(Double.NaN));
    } catch (IOException e) {
      String dead = ClusterJobs.deadNode(cluster);
      Console.say(
          "cluster job %s: a node's meters unreadable: %s",
          jobId, dead != null ? dead : e.toString());
      failed = true;
      return Run.failed(mode, rep, rounds);
    }
  }

  /** Waits (bounded) until job {@code jobId}'s checkpoint of {@code round} is stored. */
  private void awaitStored(String jobId, long round) {
    if (round == 0) {
      return;
    }
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(LAST_CHECKPOINT_SECONDS);
    while (stored.list(jobId).stream().noneMatch(s -> s.round() == round)) {
      if (System.nanoTime() > until) {
        Console.say(
            "(job %s: its checkpoint of round %d not stored within %d s)",
            jobId, round, LAST_CHECKPOINT_SECONDS);
        return;
      }
      sleep(100);
    }
  }

  /** A run's figures in one line. */
  private static String line(Run r) {
    if (!r.ok()) {
      return "FAILED";
    }
    CheckpointMeters c = r.checkpoints();
    return String.format(
        Locale.ROOT,
        "trainSeconds %7.3f  round %.3f ms  ckpts %d/%d%s  write %s"
            + "  bytes %,d  journal %.1f ms / %.1f rnds  params %s",
        r.trainSeconds(),
        1000 * r.trainSeconds() / r.rounds(),
        c.written(),
        c.committed(),
        c.notWritten() > 0 ? " NOT WRITTEN " + c.notWritten() : "",
        c.written() == 0
            ? "-"
            : String.format(
                Locale.ROOT,
                "mean %.0f med %.0f max <=%.0f ms",
                c.meanWriteMs(),
                c.writeMsQuantile(0.5),
                c.maxWriteMsAtMost()),
        c.meanBytes(),
        r.journalMs(),
        r.roundsPerWrite(),
        Console.shortHash(r.hash()));
  }

  /** Rows and bytes of the checkpoint tables (finished jobs keep their last checkpoints). */
  private static String tableSizes(DatabaseSettings db) {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String table : List.of(CheckpointStore.TABLE, CheckpointStore.GRADIENTS)) {
        try (ResultSet r =
            s.executeQuery(
                "SELECT count(*), pg_total_relation_size('" + table + "') FROM " + table)) {
          r.next();
          out.add(
              String.format(
                  Locale.ROOT, "%s %,d rows %,d MB", table, r.getLong(1), r.getLong(2) >> 20));
        }
      }
    } catch (SQLException e) {
      out.add("unreadable: " + e.getMessage());
    }
    return String.join("; ", out);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
