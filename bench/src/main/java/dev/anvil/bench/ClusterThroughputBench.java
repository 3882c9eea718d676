package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.data.DataLoader;
import dev.anvil.core.data.TrainTestData;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * End-to-end training throughput of an Anvil cluster against PyTorch DistributedDataParallel,
 * measured side by side in one invocation on one machine.
 *
 * <p>The jobs: Fashion-MNIST (IDX files in {@code /usr/share/datasets/fashion-mnist}), global batch
 * 256, plain SGD lr 0.1, MLP 784-128-10 ("small") and 784-1024-1024-10 ("large"), both with ReLU.
 * Three configurations run each job, interleaved, R times:
 *
 * <ul>
 *   <li><b>anvil-cluster</b>: a {@link LocalCluster} of 2 node JVMs with one worker slot each (plus
 *       the embedded PostgreSQL that holds the journal, and this JVM as the client), started once
 *       for the whole invocation; each job is submitted with {@link JobClient} on 2 workers, 16
 *       logical shards, kernel native. Reported: the result's {@code samplesPerSecond} (training
 *       rounds only) and its {@code roundTimeSplitMs}.
 *   <li><b>anvil-local</b>: the single-process reference trainer ({@link LocalTrainer}, 2 workers)
 *       in this JVM on the same spec. Its final parameters must hash like the cluster's;
 *       "efficiency" = cluster samples/s / local samples/s.
 *   <li><b>ddp</b>: PyTorch DDP, gloo, 2 processes x 1 core ({@link DdpPeer}); per-epoch samples/s
 *       of epoch 2 for small (epoch 1 includes warm-up) and epoch 1 for large.
 * </ul>
 *
 * The JVMs' JIT warm-up is long compared with a job, so untimed warm-up jobs (cluster and local)
 * run first. Small runs {@code --small-epochs} epochs (2; 234 rounds each), large runs {@code
 * --large-rounds} rounds (150): a large round is about 100x the work of a small one.
 *
 * <p>Start the JVM with {@code OPENBLAS_NUM_THREADS=1} and the classpath {@code
 * bench/target/anvil-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*}, as {@code
 * bench/run-cluster-throughput.sh} does: the node JVMs are launched with this JVM's {@code
 * java.class.path}.
 *
 * <p>Usage: {@code ClusterThroughputBench [--repeats R (2)] [--small-epochs E (2)] [--large-rounds
 * N (150)] [--warmup-small-rounds W (1500)] [--warmup-large-rounds W (30)] [--no-ddp] [--tls]}: the
 * cluster runs plain TCP, as DDP's gloo does, unless {@code --tls}.
 */
public final class ClusterThroughputBench {
  static final String DATA = "/usr/share/datasets/fashion-mnist";
  private static final int WORKERS = 2;
  private static final long JOB_TIMEOUT_MINUTES = 30;

  /** The benchmark's job: name, layers, data folder, length (rounds = N or epochs = E). */
  static final String JOB =
      """
      job {
        name = "%s", seed = 0
        model { type = mlp, layers = [%s], activation = relu }
        data { type = idx, path = "%s" }
        optimizer { type = sgd, learning-rate = 0.1 }
        batch-size = 256, logical-shards = 16, %s, kernel = native
      }
      """;

  private static final List<String> SPLIT_KEYS =
      List.of(
          "round",
          "compute",
          "transfer",
          "reduce",
          "update",
          "journalWrite",
          "roundsPerJournalWrite");

  private record Options(
      int repeats,
      int smallEpochs,
      int largeRounds,
      int warmupSmall,
      int warmupLarge,
      boolean ddp,
      boolean tls) {}

  /** One model's figures over the repeats. */
  private record Row(
      String model,
      String layers,
      List<Double> cluster,
      List<Double> local,
      List<Double> ddp,
      List<Map<String, Double>> splits,
      Set<String> hashes,
      List<String> hashProblems,
      List<Double> ddpStepMs) {
    Row(String model, String layers) {
      this(
          model,
          layers,
          new ArrayList<>(),
          new ArrayList<>(),
          new ArrayList<>(),
          new ArrayList<>(),
          new LinkedHashSet<>(),
          new ArrayList<>(),
          new ArrayList<>());
    }
  }

  private static int jobCounter;

  private ClusterThroughputBench() {}

  public static void main(String[] args) throws Exception {
    Options o = parseArgs(args);
    Console.say(
        "Anvil cluster vs PyTorch DDP: Fashion-MNIST, batch 256, SGD lr 0.1, 16 logical shards,"
            + " kernel native");
    Console.say(
        "anvil-cluster: LocalCluster 2 node JVMs x 1 worker slot, job on %d workers;"
            + " anvil-local: LocalTrainer %d workers in this JVM; ddp: torch DDP gloo 2 procs x 1 core",
        WORKERS, WORKERS);
    Console.say(
        "small = 784-128-10, %d epochs (%d rounds); large = 784-1024-1024-10, %d rounds;"
            + " repeats %d (interleaved)",
        o.smallEpochs(), 234 * o.smallEpochs(), o.largeRounds(), o.repeats());
    Console.say(
        "available processors %d; load average %.2f",
        Runtime.getRuntime().availableProcessors(), Console.loadAverage());
    Console.checkBlasThreads("bench/run-cluster-throughput.sh", "workers");
    Kernels.NativeProbe nativeBlas = Kernels.probeNative();
    if (!nativeBlas.available()) {
      Console.say(
          "native BLAS missing: %s (install libopenblas0-pthread). Kernel native is required.",
          nativeBlas.problem());
      System.exit(1);
    }
    String ddpProblem = o.ddp() ? DdpPeer.problem() : "disabled (--no-ddp)";
    if (ddpProblem == null) {
      Console.say(
          "ddp: %s torchrun_fixed.py --standalone --nproc_per_node=2 train_ddp.py --mode ddp"
              + " (OMP_NUM_THREADS=1); small: epoch 2 of 2, large: epoch 1 of 1",
          DdpPeer.PYTHON);
    } else {
      Console.say("ddp unavailable: %s. Printing Anvil's figures alone.", ddpProblem);
    }

    Row small = new Row("small", "784, 128, 10");
    Row large = new Row("large", "784, 1024, 1024, 10");
    TrainTestData data = DataLoader.load(spec(small, "warm-up", "rounds = 1").data(), 0);
    Path clusterDir = Files.createTempDirectory("anvil-bench-cluster");
    DdpPeer peer = ddpProblem == null ? DdpPeer.copyScripts() : null;
    boolean clusterFailed = false;
    long t0 = System.nanoTime();
    // Plain TCP by default, as DDP's gloo: what TLS costs is TlsCostBench's figure.
    LocalCluster cluster =
        LocalCluster.start(LocalClusterSettings.of(2, 1, clusterDir).withTls(o.tls()));
    Console.say(
        "cluster transport: %s",
        o.tls()
            ? "mutual TLS (tls-tcp)"
            : "plain TCP, as DDP's gloo (--tls for mutual TLS; bench/run-tls-cost.sh measures it)");
    Console.say(
        "cluster up in %.1f s (data folder %s)", (System.nanoTime() - t0) / 1e9, clusterDir);
    try {
      Console.say(
          "warm-up (not counted): cluster and local, small %d rounds, large %d rounds",
          o.warmupSmall(), o.warmupLarge());
      for (Row row : List.of(small, large)) {
        String length = "rounds = " + (row == small ? o.warmupSmall() : o.warmupLarge());
        JobSpec spec = spec(row, "warm-up", length);
        Result c = runCluster(cluster, spec);
        Result l = runLocal(spec, data);
        Console.say(
            "warm-up  %-5s cluster %s  local %s  params %s",
            row.model(),
            Console.rate(c.sps()),
            Console.rate(l.sps()),
            hashCheck(c.hash(), l.hash()));
        clusterFailed |= c.hash() == null;
      }
      for (int rep = 1; rep <= o.repeats(); rep++) {
        String tag = String.format(Locale.ROOT, "rep %d/%d", rep, o.repeats());
        Console.say("%s  load average %.2f", tag, Console.loadAverage());
        for (Row row : List.of(small, large)) {
          String length =
              row == small ? "epochs = " + o.smallEpochs() : "rounds = " + o.largeRounds();
          JobSpec spec = spec(row, "bench-" + row.model(), length);
          Result c = runCluster(cluster, spec);
          clusterFailed |= c.hash() == null;
          row.cluster().add(c.sps());
          if (c.split() != null) {
            row.splits().add(c.split());
          }
          Console.say(
              "%s  %-5s anvil-cluster %s  acc %s  params %s  split %s",
              tag,
              row.model(),
              Console.rate(c.sps()),
              acc(c.accuracy()),
              Console.shortHash(c.hash()),
              splitLine(c.split()));
          Result l = runLocal(spec, data);
          row.local().add(l.sps());
          String check = hashCheck(c.hash(), l.hash());
          if (!check.contains("(= cluster)")) {
            row.hashProblems().add(tag + ": " + check);
          }
          row.hashes().add(String.valueOf(c.hash()));
          row.hashes().add(String.valueOf(l.hash()));
          Console.say(
              "%s  %-5s anvil-local   %s  acc %s  params %s  efficiency %s",
              tag,
              row.model(),
              Console.rate(l.sps()),
              acc(l.accuracy()),
              check,
              efficiency(c.sps() / l.sps()));
          if (peer != null) {
            runDdp(tag, row, peer, row == small ? 2 : 1);
          }
        }
      }
    } finally {
      cluster.close();
      if (peer != null) {
        peer.close();
      }
      if (clusterFailed) {
        Console.say("(a cluster job failed: node logs kept in %s)", clusterDir);
      } else {
        Console.deleteTree(clusterDir);
      }
    }
    printSummary(o, small, large, peer != null);
  }

  /** One run's figures; hash null when the run failed. */
  private record Result(double sps, double accuracy, String hash, Map<String, Double> split) {}

  private static Result runCluster(LocalCluster cluster, JobSpec spec) {
    String jobId =
        String.format(
            Locale.ROOT, "%s-%d-%d", spec.name(), ++jobCounter, ProcessHandle.current().pid());
    JsonNode r = ClusterJobs.run(cluster, jobId, spec, WORKERS, JOB_TIMEOUT_MINUTES);
    if (r == null) {
      return new Result(Double.NaN, Double.NaN, null, null);
    }
    Map<String, Double> split = null;
    if (r.hasNonNull("roundTimeSplitMs")) {
      split = new LinkedHashMap<>();
      for (String key : SPLIT_KEYS) {
        split.put(key, r.path("roundTimeSplitMs").path(key).asDouble(Double.NaN));
      }
    }
    double accuracy = r.hasNonNull("testAccuracy") ? r.get("testAccuracy").asDouble() : Double.NaN;
    return new Result(
        r.path("samplesPerSecond").asDouble(Double.NaN),
        accuracy,
        r.path("paramsSha256").asText(null),
        split);
  }

  private static Result runLocal(JobSpec spec, TrainTestData data) {
    System.gc();
    PreparedJob job = PreparedJob.prepare(spec, data, "bench");
    TrainingResult r = new LocalTrainer(job, WORKERS, TrainingListener.NONE).run(0.0);
    return new Result(
        r.samplesPerSecond(),
        r.testAccuracy() == null ? Double.NaN : r.testAccuracy(),
        r.paramsSha256(),
        null);
  }

  private static void runDdp(String tag, Row row, DdpPeer peer, int epochs) {
    try {
      DdpPeer.Run r = peer.train(row.model(), epochs);
      double sps = r.epoch(epochs);
      row.ddp().add(sps);
      row.ddpStepMs().add(r.fwdMs() + r.bwdMs() + r.optMs());
      Console.say(
          "%s  %-5s ddp           %s  acc %s  epochs %s  step ms: fwd %.3f bwd+allreduce %.3f"
              + " opt %.3f",
          tag,
          row.model(),
          Console.rate(sps),
          acc(r.accuracy()),
          Console.rates(r.epochRates()),
          r.fwdMs(),
          r.bwdMs(),
          r.optMs());
    } catch (IOException e) {
      row.ddp().add(Double.NaN);
      Console.say("%s  %-5s ddp           FAILED: %s", tag, row.model(), e.getMessage());
    }
  }

  private static void printSummary(Options o, Row small, Row large, boolean ddp) {
    Console.say("");
    Console.say(
        "Medians of %d repeats, samples/s (training rounds only, evaluation excluded)",
        o.repeats());
    Console.say(
        "%-6s %14s %14s %14s %15s %12s %17s",
        "model",
        "anvil-cluster",
        "anvil-local",
        "ddp",
        "cluster/ddp",
        "efficiency",
        "cluster/ddp pairs");
    for (Row row : List.of(small, large)) {
      double c = Stats.median(row.cluster());
      double l = Stats.median(row.local());
      double d = Stats.median(row.ddp());
      Console.say(
          "%-6s %14s %14s %14s %15s %12s %17s",
          row.model(),
          Console.rate(c),
          Console.rate(l),
          Console.rate(d),
          ratio(c / d),
          efficiency(c / l),
          ratio(pairedRatio(row.cluster(), row.ddp())));
    }
    Console.say(
        "(cluster/ddp and efficiency = cluster/local: ratios of the medians; cluster/ddp pairs:"
            + " median of the per-repeat ratios; efficiency per repeat: small %s, large %s)",
        efficiencies(perRepeat(small.cluster(), small.local())),
        efficiencies(perRepeat(large.cluster(), large.local())));
    Console.say("");
    Console.say(
        "Cluster round time split, median over repeats, mean ms per round"
            + " (other = round - compute - transfer - reduce - update)");
    Console.say(
        "%-6s %8s %8s %9s %8s %8s %8s %13s %10s | %10s %10s",
        "model",
        "round",
        "compute",
        "transfer",
        "reduce",
        "update",
        "other",
        "journalWrite",
        "rnds/write",
        "local rnd",
        "ddp step");
    for (Row row : List.of(small, large)) {
      Map<String, Double> m = new TreeMap<>();
      for (String key : SPLIT_KEYS) {
        List<Double> values = new ArrayList<>();
        row.splits().forEach(s -> values.add(s.get(key)));
        m.put(key, Stats.median(values));
      }
      double other =
          m.get("round") - m.get("compute") - m.get("transfer") - m.get("reduce") - m.get("update");
      Console.say(
          "%-6s %8.3f %8.3f %9.3f %8.3f %8.3f %8.3f %13.3f %10.1f | %10.3f %10.3f",
          row.model(),
          m.get("round"),
          m.get("compute"),
          m.get("transfer"),
          m.get("reduce"),
          m.get("update"),
          other,
          m.get("journalWrite"),
          m.get("roundsPerJournalWrite"),
          256e3 / Stats.median(row.local()),
          256e3 / Stats.median(row.ddp()));
    }
    Console.say(
        "(local rnd: ms per round of anvil-local, 256e3 / its median samples/s; ddp step: the"
            + " same for ddp)");
    Console.say("");
    for (Row row : List.of(small, large)) {
      if (row.hashProblems().isEmpty() && row.hashes().size() == 1) {
        Console.say(
            "%s: cluster and reference paramsSha256 equal in every repeat: %s",
            row.model(), row.hashes().iterator().next());
      } else {
        Console.say(
            "%s: paramsSha256 PROBLEM: %s; distinct hashes %s",
            row.model(), row.hashProblems(), row.hashes());
      }
    }
    boolean hashesOk = small.hashProblems().isEmpty() && large.hashProblems().isEmpty();
    Console.say("");
    if (!ddp) {
      Console.say("targets: ddp not measured, cluster/ddp targets cannot be checked");
    }
    double rs = Stats.median(small.cluster()) / Stats.median(small.ddp());
    double rl = Stats.median(large.cluster()) / Stats.median(large.ddp());
    double eff = Stats.median(large.cluster()) / Stats.median(large.local());
    Console.say("target cluster >= 1.00x ddp, small: %s, %s", ratio(rs), met(rs, rs >= 1.0));
    Console.say("target cluster >= 1.00x ddp, large: %s, %s", ratio(rl), met(rl, rl >= 1.0));
    Console.say(
        "target efficiency >= 0.80, large:   %s, %s", efficiency(eff), met(eff, eff >= 0.8));
    Console.say("bitwise agreement cluster = reference: %s", hashesOk ? "yes" : "NO");
    Console.say("ALL TARGETS: %s", met(rs >= 1.0 && rl >= 1.0 && eff >= 0.8 && hashesOk));
  }

  private static String met(boolean ok) {
    return ok ? "MET" : "NOT MET";
  }

  private static String met(double figure, boolean ok) {
    return Double.isNaN(figure) ? "NOT MEASURED" : met(ok);
  }

  private static String efficiency(double e) {
    return Double.isNaN(e) || Double.isInfinite(e) ? "n/a" : String.format(Locale.ROOT, "%.2f", e);
  }

  private static List<Double> perRepeat(List<Double> a, List<Double> b) {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      out.add(a.get(i) / b.get(i));
    }
    return out;
  }

  private static double pairedRatio(List<Double> a, List<Double> b) {
    return Stats.median(perRepeat(a, b));
  }

  private static String hashCheck(String cluster, String local) {
    if (cluster == null) {
      return Console.shortHash(local) + " (cluster failed)";
    }
    return Console.shortHash(local)
        + (cluster.equals(local)
            ? " (= cluster)"
            : " (!= cluster " + Console.shortHash(cluster) + ", MISMATCH)");
  }

  private static String splitLine(Map<String, Double> s) {
    if (s == null) {
      return "n/a";
    }
    return String.format(
        Locale.ROOT,
        "round %.3f = compute %.3f + transfer %.3f + reduce %.3f"
            + " + update %.3f ms; journal %.2f ms / %.0f rounds",
        s.get("round"),
        s.get("compute"),
        s.get("transfer"),
        s.get("reduce"),
        s.get("update"),
        s.get("journalWrite"),
        s.get("roundsPerJournalWrite"));
  }

  private static JobSpec spec(Row row, String name, String length) {
    String text =
        String.format(Locale.ROOT, JOB, name + "-" + row.model(), row.layers(), DATA, length);
    return JobSpecParser.parse(text, "bench", null);
  }

  private static Options parseArgs(String[] args) {
    int[] v = {2, 2, 150, 1500, 30};
    boolean ddp = true;
    boolean tls = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--repeats" -> v[0] = Console.atLeast(args, ++i, 1);
          case "--small-epochs" -> v[1] = Console.atLeast(args, ++i, 2);
          case "--large-rounds" -> v[2] = Console.atLeast(args, ++i, 1);
          case "--warmup-small-rounds" -> v[3] = Console.atLeast(args, ++i, 1);
          case "--warmup-large-rounds" -> v[4] = Console.atLeast(args, ++i, 1);
          case "--no-ddp" -> ddp = false;
          case "--tls" -> tls = true;
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println(
          e.getMessage()
              + "\nusage: ClusterThroughputBench [--repeats R (2)] [--small-epochs E >= 2 (2)]"
              + " [--large-rounds N (150)] [--warmup-small-rounds W (1500)]"
              + " [--warmup-large-rounds W (30)] [--no-ddp] [--tls]");
      System.exit(2);
    }
    return new Options(v[0], v[1], v[2], v[3], v[4], ddp, tls);
  }

  private static String efficiencies(List<Double> rs) {
    List<String> out = new ArrayList<>();
    rs.forEach(r -> out.add(efficiency(r)));
    return "[" + String.join(" ", out) + "]";
  }

  private static String ratio(double r) {
    return Double.isNaN(r) || Double.isInfinite(r) ? "n/a" : String.format(Locale.ROOT, "%.2fx", r);
  }

  private static String acc(double a) {
    return Double.isNaN(a) ? "n/a" : String.format(Locale.ROOT, "%.4f", a);
  }
}
