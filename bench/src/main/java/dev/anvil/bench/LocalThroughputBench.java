package dev.anvil.bench;

import dev.anvil.bench.LocalThroughputOptions.Model;
import dev.anvil.core.data.DataLoader;
import dev.anvil.core.data.TrainTestData;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.KernelChoice;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Training throughput of Anvil's single-process reference trainer against PyTorch's fastest
 * single-process configuration, measured side by side in one invocation on one machine.
 *
 * <p>The job: Fashion-MNIST (IDX files in {@code /usr/share/datasets/fashion-mnist}), an MLP with
 * ReLU, 784-128-10 ({@code --model small}, the default) or 784-1024-1024-10 ({@code --model
 * large}), global batch 256, plain SGD lr 0.1, E epochs of 234 rounds (59,904 samples). Anvil runs
 * in this JVM with 16 logical shards and {@code availableProcessors()} workers, once per kernel of
 * {@code --kernels} (small: native (OpenBLAS) and java; large: native only, java being about 20x
 * slower there). PyTorch runs {@code train_single.py --model M --threads 1} as a subprocess (see
 * {@link PyTorchPeer}), once per configuration of {@code --torch}: strictly one core ({@code
 * 1core}), and for the large model also with OpenBLAS free to use every core ({@code blasfree}),
 * the peer README's fastest single process there. The configurations run interleaved, R times.
 * Reported, per configuration, as medians over the repeats:
 *
 * <ul>
 *   <li>all epochs: Anvil's {@link TrainingResult#samplesPerSecond()} (training rounds only,
 *       evaluation excluded); PyTorch's samples over the summed per-epoch training times;
 *   <li>steady state, epochs 2..E (epoch 1 excluded as warm-up): Anvil's rounds after the first
 *       epoch, timed by {@link SteadyStateTimer}; PyTorch's median per-epoch samples/s over epochs
 *       2..E. The ratios to PyTorch use these like-for-like figures, against the PyTorch
 *       configuration with the highest median steady rate in this run (named in the printout).
 * </ul>
 *
 * A native epoch of the small model lasts a fraction of a second, shorter than the JVM's JIT
 * warm-up, so the first repeat (and sometimes later ones) of anvil-native is slower than the warm
 * rate; the medians over the repeats soften that, longer {@code --epochs} remove most of it
 * (BENCHMARKS.md). The target line (anvil-native at least 1.2x PyTorch) is the small model's.
 *
 * <p>Start the JVM with {@code OPENBLAS_NUM_THREADS=1} (as {@code bench/run-local-throughput.sh}
 * does): each logical shard is computed single-threaded and parallelism comes from the workers, so
 * OpenBLAS must not start threads of its own. A warning is printed when it is not set. The PyTorch
 * subprocess gets its configuration's environment instead of this one.
 *
 * <p>Usage: {@link LocalThroughputOptions#USAGE}; {@code --warmup-epochs}: untimed Anvil runs
 * first, so the JIT has compiled the hot loops.
 */
public final class LocalThroughputBench {
  private static final String DATA = "/usr/share/datasets/fashion-mnist";
  private static final String JOB =
      """
      job {
        name = "bench-%s", seed = 0
        model { type = mlp, layers = [%s], activation = relu }
        data { type = idx, path = "%s" }
        optimizer { type = sgd, learning-rate = 0.1 }
        batch-size = 256, logical-shards = 16, epochs = %d, kernel = %s
      }
      """;

  /** One configuration's figures over the repeats. */
  private record Row(String name, List<Double> all, List<Double> steady, Set<String> hashes) {
    Row(String name) {
      this(name, new ArrayList<>(), new ArrayList<>(), new LinkedHashSet<>());
    }
  }

  private LocalThroughputBench() {}

  public static void main(String[] args) throws IOException {
    LocalThroughputOptions o =
        Console.options(args, LocalThroughputOptions::parse, LocalThroughputOptions.USAGE);
    int workers = Runtime.getRuntime().availableProcessors();
    Console.say(
        "Anvil local trainer vs PyTorch single process: Fashion-MNIST, MLP %s, batch 256,"
            + " SGD lr 0.1",
        o.model().layers().replace(", ", "-"));
    Console.say(
        "epochs %d, repeats %d (interleaved); Anvil: 16 logical shards, %d workers"
            + " (availableProcessors)",
        o.epochs(), o.repeats(), workers);
    Console.checkBlasThreads("bench/run-local-throughput.sh", "shard workers");
    Map<KernelChoice, Row> anvil = anvilRows(o.kernels());
    Map<PyTorchPeer.Config, Row> torch = torchRows(o);
    TrainTestData data = DataLoader.load(spec(o.model(), KernelChoice.JAVA, 1).data(), 0);
    PyTorchPeer peer = torch.isEmpty() ? null : PyTorchPeer.copyScripts();
    try {
      warmUp(o, anvil.keySet(), data, workers);
      for (int rep = 1; rep <= o.repeats(); rep++) {
        String tag = String.format(Locale.ROOT, "rep %d/%d", rep, o.repeats());
        Console.say("%s  load average %.2f", tag, Console.loadAverage());
        anvil.forEach((kernel, row) -> runAnvil(tag, row, o, kernel, o.epochs(), data, workers));
        torch.forEach((config, row) -> runPyTorch(tag, row, peer, o, config));
      }
    } finally {
      if (peer != null) {
        peer.close();
      }
    }
    printTable(o, anvil, torch);
  }

  /** A row per kernel asked for; native is left out, saying why, when OpenBLAS is missing. */
  private static Map<KernelChoice, Row> anvilRows(List<KernelChoice> kernels) {
    Map<KernelChoice, Row> rows = new LinkedHashMap<>();
    for (KernelChoice kernel : kernels) {
      rows.put(kernel, new Row(rowName(kernel)));
    }
    if (rows.containsKey(KernelChoice.NATIVE)) {
      Kernels.NativeProbe nativeBlas = Kernels.probeNative();
      if (nativeBlas.available()) {
        Console.say("native BLAS: available");
      } else {
        String hint =
            nativeBlas.problem().contains("libopenblas0-pthread")
                ? ""
                : "; install libopenblas0-pthread";
        Console.say(
            "native BLAS missing: %s%s. Skipping the anvil-native row.",
            nativeBlas.problem(), hint);
        rows.remove(KernelChoice.NATIVE);
      }
    }
    return rows;
  }

  /** A row per PyTorch configuration asked for, each stated; none when PyTorch cannot run. */
  private static Map<PyTorchPeer.Config, Row> torchRows(LocalThroughputOptions o) {
    Map<PyTorchPeer.Config, Row> rows = new LinkedHashMap<>();
    PyTorchPeer.Probe torch = PyTorchPeer.probe();
    if (torch.problem() != null) {
      Console.say("PyTorch unavailable: %s. Printing Anvil's figures alone.", torch.problem());
      return rows;
    }
    for (PyTorchPeer.Config config : o.torch()) {
      Row row = new Row("pytorch-" + config.label());
      rows.put(config, row);
      Console.say(
          "%s: PyTorch %s via %s train_single.py --model %s --threads 1, %s",
          row.name(), torch.version(), PyTorchPeer.PYTHON, o.model().label(), config.environment());
    }
    return rows;
  }

  /**
   * The JVM compiles the hot loops during roughly the first second of training (several epochs of
   * the small job); a long job never sees it again. Train untimed first, as JMH would, and print
   * the cold figure for the record.
   */
  private static void warmUp(
      LocalThroughputOptions o, Set<KernelChoice> kernels, TrainTestData data, int workers) {
    if (o.warmupEpochs() == 0 || kernels.isEmpty()) {
      return;
    }
    Console.say("warm-up (not counted): %d epochs per Anvil kernel", o.warmupEpochs());
    for (KernelChoice kernel : kernels) {
      runAnvil("warm-up", new Row(rowName(kernel)), o, kernel, o.warmupEpochs(), data, workers);
    }
  }

  private static String rowName(KernelChoice kernel) {
    return "anvil-" + kernel.name().toLowerCase(Locale.ROOT);
  }

  private static void runAnvil(
      String tag,
      Row row,
      LocalThroughputOptions o,
      KernelChoice kernel,
      int epochs,
      TrainTestData data,
      int workers) {
    System.gc();
    PreparedJob job = PreparedJob.prepare(spec(o.model(), kernel, epochs), data, "bench");
    SteadyStateTimer timer = new SteadyStateTimer();
    TrainingResult r = new LocalTrainer(job, workers, timer).run(0.0);
    row.all().add(r.samplesPerSecond());
    row.steady().add(timer.steadySamplesPerSecond());
    row.hashes().add(r.paramsSha256());
    Console.say(
        "%s  %-16s all %s  steady %s  epochs %s  acc %.4f  params %s",
        tag,
        row.name(),
        Console.rate(r.samplesPerSecond()),
        Console.rate(timer.steadySamplesPerSecond()),
        Console.rates(timer.epochRates()),
        r.testAccuracy(),
        r.paramsSha256().substring(0, 12));
  }

  private static void runPyTorch(
      String tag, Row row, PyTorchPeer peer, LocalThroughputOptions o, PyTorchPeer.Config config) {
    try {
      PyTorchPeer.Run r = peer.train(o.model().label(), config, o.epochs());
      row.all().add(r.overall());
      row.steady().add(r.steady());
      Console.say(
          "%s  %-16s all %s  steady %s  epochs %s  acc %.4f",
          tag,
          row.name(),
          Console.rate(r.overall()),
          Console.rate(r.steady()),
          Console.rates(r.epochRates()),
          r.accuracy());
    } catch (IOException e) {
      row.all().add(Double.NaN);
      row.steady().add(Double.NaN);
      Console.say("%s  %-16s FAILED: %s", tag, row.name(), e.getMessage());
    }
  }

  private static void printTable(
      LocalThroughputOptions o, Map<KernelChoice, Row> anvil, Map<PyTorchPeer.Config, Row> torch) {
    Console.say("");
    Console.say(
        "Medians of %d repeats, samples/s, training rounds only (evaluation excluded);"
            + " steady = epochs 2..%d",
        o.repeats(), o.epochs());
    Row reference = fastest(torch.values());
    Console.say(
        "%-16s %12s %14s %16s %16s",
        "config", "all epochs", "steady", "steady/pytorch", "paired median");
    List<Row> rows = new ArrayList<>(anvil.values());
    rows.addAll(torch.values());
    for (Row row : rows) {
      boolean noRatio = row == reference || reference == null;
      Console.say(
          "%-16s %12s %14s %16s %16s",
          row.name(),
          Console.rate(Stats.median(row.all())),
          Console.rate(Stats.median(row.steady())),
          noRatio ? "" : ratio(Stats.median(row.steady()) / Stats.median(reference.steady())),
          noRatio ? "" : ratio(pairedRatio(row, reference)));
    }
    Console.say(
        "(steady/pytorch: ratio of the medians; paired median: median of the per-repeat ratios)");
    if (reference != null) {
      Console.say(
          "(pytorch = %s: the fastest PyTorch configuration in this run, by median steady rate)",
          reference.name());
    }
    anvil.values().forEach(LocalThroughputBench::sayParamsIdentical);
    Row nativeRow = anvil.get(KernelChoice.NATIVE);
    if (o.model() == Model.SMALL && nativeRow != null && reference != null) {
      double r = Stats.median(nativeRow.steady()) / Stats.median(reference.steady());
      Console.say(
          "target anvil-native >= 1.20x pytorch (steady): %s, %s",
          ratio(r), r >= 1.2 ? "MET" : "NOT MET");
    }
  }

  /** The row with the highest median steady rate; null for none (or none that ran). */
  private static Row fastest(Iterable<Row> rows) {
    Row best = null;
    for (Row row : rows) {
      double steady = Stats.median(row.steady());
      if (!Double.isNaN(steady) && (best == null || steady > Stats.median(best.steady()))) {
        best = row;
      }
    }
    return best;
  }

  private static void sayParamsIdentical(Row row) {
    Console.say(
        "%s final parameters identical across repeats: %s",
        row.name(), row.hashes().size() == 1 ? "yes" : "NO (" + row.hashes().size() + " distinct)");
  }

  private static double pairedRatio(Row row, Row torchRow) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(row.steady().size(), torchRow.steady().size()); i++) {
      ratios.add(row.steady().get(i) / torchRow.steady().get(i));
    }
    return Stats.median(ratios);
  }

  private static JobSpec spec(Model model, KernelChoice kernel, int epochs) {
    String text =
        String.format(
            Locale.ROOT,
            JOB,
            model.label(),
            model.layers(),
            DATA,
            epochs,
            kernel.name().toLowerCase(Locale.ROOT));
    return JobSpecParser.parse(text, "bench", null);
  }

  private static String ratio(double r) {
    return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.2fx", r);
  }
}
