package dev.anvil.bench;

import dev.anvil.core.data.DataLoader;
import dev.anvil.core.data.TrainTestData;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

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
 * <p>Usage: {@link ClusterThroughputOptions#USAGE}: the cluster runs plain TCP, as DDP's gloo does,
 * unless {@code --tls}. The runs are {@link ThroughputRuns}'s, the summary {@link
 * ThroughputReport}'s.
 */
public final class ClusterThroughputBench {
  static final String DATA = "/usr/share/datasets/fashion-mnist";

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

  private ClusterThroughputBench() {}

  public static void main(String[] args) throws Exception {
    ClusterThroughputOptions o =
        Console.options(args, ClusterThroughputOptions::parse, ClusterThroughputOptions.USAGE);
    sayHeader(o);
    Console.requireNativeBlas();
    String ddpProblem = ddpProblem(o);
    ThroughputRow small = new ThroughputRow("small", "784, 128, 10");
    ThroughputRow large = new ThroughputRow("large", "784, 1024, 1024, 10");
    TrainTestData data = DataLoader.load(spec(small, "warm-up", "rounds = 1").data(), 0);
    Path clusterDir = Files.createTempDirectory("anvil-bench-cluster");
    DdpPeer peer = ddpProblem == null ? DdpPeer.copyScripts() : null;
    LocalCluster cluster = startCluster(o, clusterDir);
    ThroughputRuns runs = new ThroughputRuns(cluster, data, peer);
    try {
      warmUp(o, runs, small, large);
      for (int rep = 1; rep <= o.repeats(); rep++) {
        String tag = String.format(Locale.ROOT, "rep %d/%d", rep, o.repeats());
        Console.say("%s  load average %.2f", tag, Console.loadAverage());
        runs.measure(tag, small, spec(small, "bench-small", "epochs = " + o.smallEpochs()), 2);
        runs.measure(tag, large, spec(large, "bench-large", "rounds = " + o.largeRounds()), 1);
      }
    } finally {
      cluster.close();
      if (peer != null) {
        peer.close();
      }
      if (runs.clusterFailed()) {
        Console.say("(a cluster job failed: node logs kept in %s)", clusterDir);
      } else {
        Console.deleteTree(clusterDir);
      }
    }
    ThroughputReport.print(o.repeats(), small, large, peer != null);
  }

  private static void sayHeader(ClusterThroughputOptions o) {
    Console.say(
        "Anvil cluster vs PyTorch DDP: Fashion-MNIST, batch 256, SGD lr 0.1, 16 logical shards,"
            + " kernel native");
    Console.say(
        "anvil-cluster: LocalCluster 2 node JVMs x 1 worker slot, job on %d workers;"
            + " anvil-local: LocalTrainer %d workers in this JVM; ddp: torch DDP gloo 2 procs x 1 core",
        ThroughputRuns.WORKERS, ThroughputRuns.WORKERS);
    Console.say(
        "small = 784-128-10, %d epochs (%d rounds); large = 784-1024-1024-10, %d rounds;"
            + " repeats %d (interleaved)",
        o.smallEpochs(), 234 * o.smallEpochs(), o.largeRounds(), o.repeats());
    Console.say(
        "available processors %d; load average %.2f",
        Runtime.getRuntime().availableProcessors(), Console.loadAverage());
    Console.checkBlasThreads("bench/run-cluster-throughput.sh", "workers");
  }

  /** Why DDP is not measured, said; null (with its command said) when it is. */
  private static String ddpProblem(ClusterThroughputOptions o) {
    String ddpProblem = o.ddp() ? DdpPeer.problem() : "disabled (--no-ddp)";
    if (ddpProblem == null) {
      Console.say(
          "ddp: %s torchrun_fixed.py --standalone --nproc_per_node=2 train_ddp.py --mode ddp"
              + " (OMP_NUM_THREADS=1); small: epoch 2 of 2, large: epoch 1 of 1",
          DdpPeer.PYTHON);
    } else {
      Console.say("ddp unavailable: %s. Printing Anvil's figures alone.", ddpProblem);
    }
    return ddpProblem;
  }

  /** The cluster of every job: 2 node JVMs x 1 worker slot, started once. */
  private static LocalCluster startCluster(ClusterThroughputOptions o, Path clusterDir) {
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
    return cluster;
  }

  /** Untimed jobs of both models on the cluster and locally, for the JIT. */
  private static void warmUp(
      ClusterThroughputOptions o, ThroughputRuns runs, ThroughputRow small, ThroughputRow large) {
    Console.say(
        "warm-up (not counted): cluster and local, small %d rounds, large %d rounds",
        o.warmupSmall(), o.warmupLarge());
    runs.warmUp(small, spec(small, "warm-up", "rounds = " + o.warmupSmall()));
    runs.warmUp(large, spec(large, "warm-up", "rounds = " + o.warmupLarge()));
  }

  private static JobSpec spec(ThroughputRow row, String name, String length) {
    String text =
        String.format(Locale.ROOT, JOB, name + "-" + row.model(), row.layers(), DATA, length);
    return JobSpecParser.parse(text, "bench", null);
  }
}
