package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What mutual TLS between the members costs a training round: two {@link LocalCluster}s of 2 node
 * JVMs x 1 worker slot, up at the same time, one with the default throw-away CA (Artery {@code
 * tls-tcp}, TLSv1.3, AES-GCM) and one on plain TCP, run the cluster benchmark's jobs
 * (Fashion-MNIST, batch 256, 16 logical shards, kernel native; small 784-128-10 for 2 epochs, large
 * 784-1024-1024-10 for 150 rounds), interleaved R times, the order of the two swapped every repeat.
 * Reported: each run's samples/s and round-time split, medians, the paired ratio TLS/TCP per repeat
 * and its median; the two transports must give the same parameter bits.
 *
 * <p>Usage: {@code TlsCostBench [--repeats R (5)] [--small-epochs E (2)] [--large-rounds N (150)]},
 * through {@code bench/run-tls-cost.sh}.
 */
public final class TlsCostBench {
  private static final String DATA = ClusterThroughputBench.DATA;
  private static final int WORKERS = 2;

  private TlsCostBench() {}

  private record Run(double sps, double roundMs, double transferMs, String hash) {}

  private record Model(
      String name,
      String layers,
      String length,
      List<Run> tls,
      List<Run> tcp,
      List<Double> ratios,
      Set<String> hashes) {
    Model(String name, String layers, String length) {
      this(
          name,
          layers,
          length,
          new ArrayList<>(),
          new ArrayList<>(),
          new ArrayList<>(),
          new LinkedHashSet<>());
    }
  }

  private static int jobs;

  public static void main(String[] args) throws Exception {
    int repeats = 5;
    int smallEpochs = 2;
    int largeRounds = 150;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--repeats" -> repeats = Console.atLeast(args, ++i, 1);
        case "--small-epochs" -> smallEpochs = Console.atLeast(args, ++i, 1);
        case "--large-rounds" -> largeRounds = Console.atLeast(args, ++i, 1);
        default -> {
          Console.say(
              "unknown option %s; usage: TlsCostBench [--repeats R] [--small-epochs E]"
                  + " [--large-rounds N]",
              args[i]);
          System.exit(2);
        }
      }
    }
    if (!Files.isDirectory(Path.of(DATA))) {
      Console.say("needs %s (apt-get install dataset-fashion-mnist)", DATA);
      System.exit(1);
    }
    Console.checkBlasThreads("bench/run-tls-cost.sh", "workers");
    Console.say(
        "TLS cost: 2 LocalClusters of 2 node JVMs x 1 worker (tls-tcp TLSv1.3 vs tcp),"
            + " Fashion-MNIST batch 256, 16 shards, kernel native; repeats %d, order swapped each"
            + " repeat; available processors %d",
        repeats, Runtime.getRuntime().availableProcessors());
    List<Model> models =
        List.of(
            new Model("small", "784, 128, 10", "epochs = " + smallEpochs),
            new Model("large", "784, 1024, 1024, 10", "rounds = " + largeRounds));
    Path tlsDir = Files.createTempDirectory("anvil-tls-cost-tls");
    Path tcpDir = Files.createTempDirectory("anvil-tls-cost-tcp");
    try (LocalCluster tls = LocalCluster.start(LocalClusterSettings.of(2, 1, tlsDir));
        LocalCluster tcp =
            LocalCluster.start(LocalClusterSettings.of(2, 1, tcpDir).withTls(false))) {
      Console.say("clusters up; warm-up (not counted): small 1500 rounds, large 30 rounds, both");
      for (Model m : models) {
        String warm = m.name().equals("small") ? "rounds = 1500" : "rounds = 30";
        run(tls, m, warm);
        run(tcp, m, warm);
      }
      for (int rep = 1; rep <= repeats; rep++) {
        Console.say("rep %d/%d  load average %.2f", rep, repeats, Console.loadAverage());
        for (Model m : models) {
          boolean tlsFirst = rep % 2 == 1;
          Run first = run(tlsFirst ? tls : tcp, m, m.length());
          Run second = run(tlsFirst ? tcp : tls, m, m.length());
          Run a = tlsFirst ? first : second;
          Run b = tlsFirst ? second : first;
          m.tls().add(a);
          m.tcp().add(b);
          m.hashes().add(String.valueOf(a.hash()));
          m.hashes().add(String.valueOf(b.hash()));
          m.ratios().add(a.sps() / b.sps());
          Console.say(
              "rep %d  %-5s tls %s (round %.2f ms, transfer %.2f ms)  tcp %s (round %.2f"
                  + " ms, transfer %.2f ms)  tls/tcp %.3f",
              rep,
              m.name(),
              Console.rate(a.sps()),
              a.roundMs(),
              a.transferMs(),
              Console.rate(b.sps()),
              b.roundMs(),
              b.transferMs(),
              a.sps() / b.sps());
        }
      }
    } finally {
      Console.deleteTree(tlsDir);
      Console.deleteTree(tcpDir);
    }
    Console.say("summary (medians over %d repeats)", repeats);
    for (Model m : models) {
      Console.say(
          "%-5s tls %s round %.2f ms transfer %.2f ms | tcp %s round %.2f ms transfer"
              + " %.2f ms | paired tls/tcp samples/s %.3f (runs %s) | params %s",
          m.name(),
          Console.rate(median(m.tls(), Run::sps)),
          median(m.tls(), Run::roundMs),
          median(m.tls(), Run::transferMs),
          Console.rate(median(m.tcp(), Run::sps)),
          median(m.tcp(), Run::roundMs),
          median(m.tcp(), Run::transferMs),
          Stats.median(m.ratios()),
          m.ratios().stream().map(r -> String.format(Locale.ROOT, "%.3f", r)).toList(),
          m.hashes().size() == 1 ? "equal on both transports" : "DIFFERENT: " + m.hashes());
    }
  }

  private static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
    return Stats.median(runs.stream().map(f::applyAsDouble).toList());
  }

  private static Run run(LocalCluster cluster, Model m, String length) {
    JobSpec spec =
        JobSpecParser.parse(
            String.format(
                Locale.ROOT,
                ClusterThroughputBench.JOB,
                "tls-cost-" + m.name(),
                m.layers(),
                DATA,
                length),
            "tls-cost",
            null);
    String id =
        String.format(
            Locale.ROOT, "tls-cost-%s-%d-%d", m.name(), ++jobs, ProcessHandle.current().pid());
    JsonNode r = ClusterJobs.run(cluster, id, spec, WORKERS, 30);
    if (r == null) {
      return new Run(Double.NaN, Double.NaN, Double.NaN, null);
    }
    JsonNode split = r.path("roundTimeSplitMs");
    return new Run(
        r.path("samplesPerSecond").asDouble(Double.NaN),
        split.path("round").asDouble(Double.NaN),
        split.path("transfer").asDouble(Double.NaN),
        r.path("paramsSha256").asText(null));
  }
}
