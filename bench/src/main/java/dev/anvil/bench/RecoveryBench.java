package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.journal.JournalCheck;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Recovery after a SIGKILL: Anvil's time from the kill of a node to the next committed round, for a
 * node hosting only a worker and for the node hosting the job's coordinator, next to TorchElastic's
 * time from the kill of a worker process to the first step after its restart (the peer's {@code
 * chaos_run.py}), plus the rounds each redoes.
 *
 * <p>Anvil: a {@link LocalCluster} of 3 node JVMs x 1 worker slot; each run trains Fashion-MNIST
 * 784-128-10 (batch 256, SGD lr 0.1, 16 logical shards, kernel native) on 3 workers, kills a node
 * once round 300 is committed, and reads the kill-to-next-round time from the result's {@code
 * recoveries}. The killed node is replaced by a new one before the next run. Worker-kill runs also
 * measure how long the job takes to get back to the fault-free rate of the two survivors (a
 * fault-free job on the two of them, measured after each run). Every run checks the fault-free hash
 * and the journal (rounds exactly once).
 */
public final class RecoveryBench {
  private static final String DATA = "/usr/share/datasets/fashion-mnist";
  private static final int ROUNDS = 3000;
  private static final long KILL_AT = 300;

  private RecoveryBench() {}

  /**
   * One kill: measured from the kill by this benchmark ({@code killToNextRoundMs}), and as the job
   * reports it ({@code stallMs}, the longest {@code stallMillis} of its recoveries after the kill;
   * {@code detectMs}, the {@code detectMillis} of the first of them).
   */
  private record AnvilRun(
      String kind,
      long killToNextRoundMs,
      long stallMs,
      long detectMs,
      long replayMs,
      long redone,
      double backWithinS,
      boolean hashOk,
      String journal) {}

  public static void main(String[] args) throws Exception {
    int runs = 5;
    int torchRuns = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Console.atLeast(args, ++i, 1);
        case "--torch-runs" -> torchRuns = Console.atLeast(args, ++i, 0);
        default -> {
          System.err.println(
              "unknown option "
                  + args[i]
                  + "; expected --runs N (default 5), --torch-runs N (default 3; 0 skips the peer)");
          System.exit(2);
        }
      }
    }
    Console.checkBlasThreads("bench/run-recovery.sh", "workers");
    if (!Kernels.probeNative().available() || !Files.isDirectory(Path.of(DATA))) {
      Console.say("needs native BLAS (libopenblas0-pthread) and %s (dataset-fashion-mnist)", DATA);
      System.exit(1);
    }
    Console.say(
        "recovery: Fashion-MNIST 784-128-10, batch 256, %d rounds, 3 node JVMs x 1 worker,"
            + " kill at round >= %d; %d runs per kind; load average %.2f",
        ROUNDS, KILL_AT, runs, Console.loadAverage());
    JobSpec reference = spec("reference");
    String referenceHash =
        new dev.anvil.core.train.LocalTrainer(
                dev.anvil.core.train.PreparedJob.prepare(reference, "bench"),
                2,
                dev.anvil.core.train.TrainingListener.NONE)
            .run(0)
            .paramsSha256();

    List<AnvilRun> results = new ArrayList<>();
    Path dir = Files.createTempDirectory("anvil-bench-recovery");
    try (LocalCluster cluster = LocalCluster.start(LocalClusterSettings.of(3, 1, dir))) {
      warmUp(cluster, "warm-up-0");
      int n = 0;
      for (int r = 0; r < runs; r++) {
        for (String kind : List.of("worker-node", "coordinator-node")) {
          n++;
          AnvilRun run = runOnce(cluster, kind, "run-" + n, referenceHash);
          results.add(run);
          Console.say(
              "run %2d  %-16s kill -> next committed round %6d ms  reported stall %6d ms"
                  + " (detect %5d ms)  replay %5d ms  rounds redone %4d  back to survivors' rate"
                  + " within %s  hash %s  journal %s",
              n,
              kind,
              run.killToNextRoundMs(),
              run.stallMs(),
              run.detectMs(),
              run.replayMs(),
              run.redone(),
              Double.isNaN(run.backWithinS())
                  ? "-"
                  : String.format(Locale.ROOT, "%.1f s", run.backWithinS()),
              run.hashOk() ? "= reference" : "DIFFERS",
              run.journal());
          cluster.addNode();
          cluster.awaitNodesUp(3);
          warmUp(cluster, "warm-up-" + n);
        }
      }
    } finally {
      Console.deleteTree(dir);
    }

    List<Double> torchRecovery = new ArrayList<>();
    List<Double> torchLost = new ArrayList<>();
    if (torchRuns > 0) {
      String problem = DdpPeer.problem();
      if (problem != null) {
        Console.say("torchelastic unavailable: %s", problem);
      } else {
        Path peer = PyTorchPeer.copyScriptsTo("anvil-bench-torchelastic");
        try {
          for (int r = 1; r <= torchRuns; r++) {
            JsonNode j = torchElastic(peer, r);
            torchRecovery.add(j.path("recovery_s").asDouble(Double.NaN) * 1000);
            torchLost.add(j.path("lost_steps").asDouble(Double.NaN));
            Console.say(
                "torchelastic %d  kill -> first step after restart %6.0f ms  steps redone"
                    + " %3.0f  completed %s",
                r, torchRecovery.get(r - 1), torchLost.get(r - 1), j.path("completed").asText());
          }
        } finally {
          Console.deleteTree(peer);
        }
      }
    }

    Console.say("");
    Console.say("medians over %d runs each:", runs);
    double worker = median(results, "worker-node", AnvilRun::killToNextRoundMs);
    double coordinator = median(results, "coordinator-node", AnvilRun::killToNextRoundMs);
    double replay = median(results, "coordinator-node", AnvilRun::replayMs);
    double back =
        Stats.median(
            results.stream()
                .filter(x -> x.kind().equals("worker-node"))
                .map(AnvilRun::backWithinS)
                .filter(d -> !Double.isNaN(d))
                .toList());
    Console.say(
        "anvil worker-node kill       -> next committed round %6.0f ms, reported stall"
            + " %6.0f ms, rounds redone 0, back to survivors' rate within %.1f s",
        worker, median(results, "worker-node", AnvilRun::stallMs), back);
    Console.say(
        "anvil coordinator-node kill  -> next committed round %6.0f ms (replay %.0f ms"
            + " of it), reported stall %6.0f ms (detect %.0f ms), rounds redone %.0f",
        coordinator,
        replay,
        median(results, "coordinator-node", AnvilRun::stallMs),
        median(results, "coordinator-node", AnvilRun::detectMs),
        median(results, "coordinator-node", AnvilRun::redone));
    if (!torchRecovery.isEmpty()) {
      double torch = Stats.median(torchRecovery);
      Console.say(
          "torchelastic worker kill     -> first step after restart %6.0f ms, steps"
              + " redone %.0f",
          torch, Stats.median(torchLost));
      Console.say(
          "ratio torchelastic / anvil worker-node kill: %.1fx (anvil faster when > 1)",
          torch / worker);
    }
    boolean allOk = results.stream().allMatch(r -> r.hashOk() && r.journal().equals("ok"));
    Console.say("every run ended with the fault-free hash and a clean journal: %s", allOk);
    System.exit(allOk ? 0 : 1);
  }

  private static AnvilRun runOnce(
      LocalCluster cluster, String kind, String jobId, String referenceHash) throws Exception {
    List<long[]> progress = Collections.synchronizedList(new ArrayList<>());
    FollowedJob job =
        FollowedJob.submit(
            cluster.client(),
            jobId,
            spec(jobId),
            3,
            u -> {
              if (u instanceof Progress p) {
                progress.add(new long[] {System.currentTimeMillis(), p.round()});
              }
            });
    job.awaitRound(KILL_AT, Duration.ofSeconds(120));
    int hosting = cluster.addresses().indexOf(job.coordinator());
    int victim = -1;
    for (int i = 0; i < cluster.size() && victim < 0; i++) {
      boolean alive = cluster.process(i).isAlive();
      if (alive && (kind.equals("coordinator-node") ? i == hosting : i != hosting)) {
        victim = i;
      }
    }
    long killedAt = System.currentTimeMillis();
    cluster.kill(victim); // SIGKILL; the launcher then downs that incarnation
    JsonNode result = job.awaitResult(Duration.ofSeconds(300));
    long next = Long.MAX_VALUE;
    long replay = 0;
    long redone = 0;
    long stall = 0;
    long detect = -1;
    for (JsonNode r : result.path("recoveries")) {
      if (r.path("firstCommitMillis").asLong() >= killedAt) {
        if (r.path("firstCommitMillis").asLong() - killedAt < next) {
          detect = r.path("detectMillis").asLong();
        }
        stall = Math.max(stall, r.path("stallMillis").asLong());
        next = Math.min(next, r.path("firstCommitMillis").asLong() - killedAt);
        replay += r.path("replayMillis").asLong();
        redone += r.path("redoneRounds").asLong();
      }
    }
    double back = Double.NaN;
    if (kind.equals("worker-node")) {
      double survivors = faultFreeRate(cluster, jobId + "-survivors");
      back = backWithin(progress, killedAt, survivors);
    }
    JournalCheck.Report journal = JournalCheck.check(cluster.client(), cluster.database(), jobId);
    return new AnvilRun(
        kind,
        next,
        stall,
        detect,
        replay,
        redone,
        back,
        referenceHash.equals(result.path("paramsSha256").asText()),
        journal.exactlyOnce(ROUNDS) ? "ok" : journal.toString());
  }

  /**
   * Seconds after the kill until the rate over the trailing second first reaches 90% of the
   * survivors' fault-free rate (NaN if it never does).
   */
  private static double backWithin(List<long[]> progress, long killedAt, double rate) {
    List<long[]> p = new ArrayList<>(progress);
    int from = 0;
    for (long[] now : p) {
      if (now[0] < killedAt + 1000) {
        continue;
      }
      while (p.get(from)[0] < now[0] - 1000) {
        from++;
      }
      long[] then = p.get(from);
      double seconds = (now[0] - then[0]) / 1000.0;
      if (seconds > 0.5 && (now[1] - then[1]) * 256 / seconds >= 0.9 * rate) {
        return (now[0] - killedAt) / 1000.0;
      }
    }
    return Double.NaN;
  }

  /** Samples/s of a fault-free job on the two surviving nodes' workers. */
  private static double faultFreeRate(LocalCluster cluster, String jobId) throws Exception {
    JobSpec spec = JobSpecParser.parse(text(jobId, 1500), "bench", null);
    return FollowedJob.submit(cluster.client(), jobId, spec, 2, u -> {})
        .awaitResult(Duration.ofSeconds(300))
        .path("samplesPerSecond")
        .asDouble();
  }

  private static void warmUp(LocalCluster cluster, String jobId) throws Exception {
    JobSpec spec = JobSpecParser.parse(text(jobId, 1500), "bench", null);
    FollowedJob.Ending end =
        FollowedJob.submit(cluster.client(), jobId, spec, 3, u -> {})
            .awaitEnding(Duration.ofSeconds(300));
    // What warms is the run (JIT, caches), not its result: a failed warm-up is no error.
    if (end.kind() == FollowedJob.Ending.Kind.TIMED_OUT
        || end.kind() == FollowedJob.Ending.Kind.ABANDONED) {
      throw new IllegalStateException(jobId + ": " + end.reason());
    }
  }

  private static JsonNode torchElastic(Path peer, int run) throws Exception {
    Path out = peer.resolve("results").resolve("chaos-bench.jsonl");
    Files.createDirectories(out.getParent());
    ProcessBuilder pb =
        new ProcessBuilder(
                PyTorchPeer.PYTHON.toString(),
                "chaos_run.py",
                "--name",
                "bench-kill-" + run,
                "--model",
                "small",
                "--epochs",
                "2",
                "--kill-step",
                "120",
                "--out",
                out.toString())
            .directory(peer.toFile())
            .redirectErrorStream(true)
            .redirectOutput(peer.resolve("chaos-" + run + ".log").toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    int rc = PyTorchPeer.await(pb, 900);
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    if (rc != 0 || lines.isEmpty()) {
      throw new IllegalStateException("chaos_run.py failed (exit " + rc + ")");
    }
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  private static double median(
      List<AnvilRun> runs, String kind, java.util.function.ToLongFunction<AnvilRun> f) {
    return Stats.median(
        runs.stream()
            .filter(r -> r.kind().equals(kind))
            .map(r -> (double) f.applyAsLong(r))
            .toList());
  }

  private static JobSpec spec(String name) {
    return JobSpecParser.parse(text("recovery", ROUNDS), "bench", null);
  }

  private static String text(String name, int rounds) {
    return String.format(
        Locale.ROOT,
        """
        job {
          name = "%s", seed = 1
          model { type = mlp, layers = [784, 128, 10] }
          data { type = idx, path = "%s" }
          optimizer { type = sgd, learning-rate = 0.1 }
          batch-size = 256, logical-shards = 16, rounds = %d, kernel = native
        }
        """,
        name,
        DATA,
        rounds);
  }
}
