package dev.anvil.bench;

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
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Training throughput of Anvil's single-process reference trainer against PyTorch's fastest
 * single-process configuration, measured side by side in one invocation on one machine.
 *
 * <p>The job: Fashion-MNIST (IDX files in {@code /usr/share/datasets/fashion-mnist}), MLP
 * 784-128-10 with ReLU, global batch 256, plain SGD lr 0.1, E epochs of 234 rounds (59,904
 * samples). Anvil runs in this JVM with 16 logical shards and {@code availableProcessors()}
 * workers, once with kernel {@code native} (OpenBLAS) and once with {@code java}; PyTorch runs
 * {@code train_single.py --model small --threads 1} as a subprocess (see {@link PyTorchPeer}). The
 * three run interleaved, R times. Reported, per configuration, as medians over the repeats:
 *
 * <ul>
 *   <li>all epochs: Anvil's {@link TrainingResult#samplesPerSecond()} (training rounds only,
 *       evaluation excluded); PyTorch's samples over the summed per-epoch training times;
 *   <li>steady state, epochs 2..E (epoch 1 excluded as warm-up): Anvil's rounds after the first
 *       epoch, timed by {@link SteadyStateTimer}; PyTorch's median per-epoch samples/s over epochs
 *       2..E. The ratios to PyTorch use these like-for-like figures.
 * </ul>
 *
 * A native epoch lasts a fraction of a second, shorter than the JVM's JIT warm-up, so the first
 * repeat (and sometimes later ones) of anvil-native is slower than the warm rate; the medians over
 * the repeats soften that, longer {@code --epochs} remove most of it (BENCHMARKS.md).
 *
 * <p>Start the JVM with {@code OPENBLAS_NUM_THREADS=1} (as {@code bench/run-local-throughput.sh}
 * does): each logical shard is computed single-threaded and parallelism comes from the workers, so
 * OpenBLAS must not start threads of its own. A warning is printed when it is not set.
 *
 * <p>Usage: {@code LocalThroughputBench [--epochs E (3, at least 2)] [--repeats R (3)]
 * [--warmup-epochs W (3; untimed Anvil runs first, so the JIT has compiled the hot loops)]}.
 */
public final class LocalThroughputBench {
  private static final String DATA = "/usr/share/datasets/fashion-mnist";
  private static final String JOB =
      """
      job {
        name = "bench-small", seed = 0
        model { type = mlp, layers = [784, 128, 10], activation = relu }
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
    int[] options = parseArgs(args);
    int epochs = options[0];
    int repeats = options[1];
    int workers = Runtime.getRuntime().availableProcessors();
    Console.say(
        "Anvil local trainer vs PyTorch single process: Fashion-MNIST, MLP 784-128-10, batch 256,"
            + " SGD lr 0.1");
    Console.say(
        "epochs %d, repeats %d (interleaved); Anvil: 16 logical shards, %d workers"
            + " (availableProcessors)",
        epochs, repeats, workers);
    Console.checkBlasThreads("bench/run-local-throughput.sh", "shard workers");
    Kernels.NativeProbe nativeBlas = Kernels.probeNative();
    if (nativeBlas.available()) {
      Console.say("native BLAS: available");
    } else {
      String hint =
          nativeBlas.problem().contains("libopenblas0-pthread")
              ? ""
              : "; install libopenblas0-pthread";
      Console.say(
          "native BLAS missing: %s%s. Skipping the anvil-native row.", nativeBlas.problem(), hint);
    }
    PyTorchPeer.Probe torch = PyTorchPeer.probe();
    if (torch.problem() == null) {
      Console.say(
          "PyTorch %s via %s train_single.py --threads 1 (OMP_NUM_THREADS=1,"
              + " OPENBLAS_NUM_THREADS=1)",
          torch.version(), PyTorchPeer.PYTHON);
    } else {
      Console.say("PyTorch unavailable: %s. Printing Anvil's figures alone.", torch.problem());
    }

    TrainTestData data = DataLoader.load(spec(KernelChoice.JAVA, epochs).data(), 0);
    Row nativeRow = nativeBlas.available() ? new Row("anvil-native") : null;
    Row javaRow = new Row("anvil-java");
    Row torchRow = torch.problem() == null ? new Row("pytorch") : null;
    PyTorchPeer peer = torchRow == null ? null : PyTorchPeer.copyScripts();
    try {
      int warmup = options[2];
      if (warmup > 0) {
        // The JVM compiles the hot loops during roughly the first second of training (several
        // epochs of this small job); a long job never sees it again. Train untimed first, as
        // JMH would, and print the cold figure for the record.
        Console.say("warm-up (not counted): %d epochs per Anvil kernel", warmup);
        if (nativeRow != null) {
          runAnvil("warm-up", new Row("anvil-native"), KernelChoice.NATIVE, warmup, data, workers);
        }
        runAnvil("warm-up", new Row("anvil-java"), KernelChoice.JAVA, warmup, data, workers);
      }
      for (int rep = 1; rep <= repeats; rep++) {
        String tag = String.format(Locale.ROOT, "rep %d/%d", rep, repeats);
        Console.say(
            "%s  load average %.2f",
            tag, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        if (nativeRow != null) {
          runAnvil(tag, nativeRow, KernelChoice.NATIVE, epochs, data, workers);
        }
        runAnvil(tag, javaRow, KernelChoice.JAVA, epochs, data, workers);
        if (peer != null) {
          runPyTorch(tag, torchRow, peer, epochs);
        }
      }
    } finally {
      if (peer != null) {
        peer.close();
      }
    }
    printTable(epochs, repeats, nativeRow, javaRow, torchRow);
  }

  private static void runAnvil(
      String tag, Row row, KernelChoice kernel, int epochs, TrainTestData data, int workers) {
    System.gc();
    PreparedJob job = PreparedJob.prepare(spec(kernel, epochs), data, "bench");
    SteadyStateTimer timer = new SteadyStateTimer();
    TrainingResult r = new LocalTrainer(job, workers, timer).run(0.0);
    row.all().add(r.samplesPerSecond());
    row.steady().add(timer.steadySamplesPerSecond());
    row.hashes().add(r.paramsSha256());
    Console.say(
        "%s  %-12s all %s  steady %s  epochs %s  acc %.4f  params %s",
        tag,
        row.name(),
        Console.rate(r.samplesPerSecond()),
        Console.rate(timer.steadySamplesPerSecond()),
        Console.rates(timer.epochRates()),
        r.testAccuracy(),
        r.paramsSha256().substring(0, 12));
  }

  private static void runPyTorch(String tag, Row row, PyTorchPeer peer, int epochs) {
    try {
      PyTorchPeer.Run r = peer.train(epochs);
      row.all().add(r.overall());
      row.steady().add(r.steady());
      Console.say(
          "%s  %-12s all %s  steady %s  epochs %s  acc %.4f",
          tag,
          row.name(),
          Console.rate(r.overall()),
          Console.rate(r.steady()),
          Console.rates(r.epochRates()),
          r.accuracy());
    } catch (IOException e) {
      row.all().add(Double.NaN);
      row.steady().add(Double.NaN);
      Console.say("%s  %-12s FAILED: %s", tag, row.name(), e.getMessage());
    }
  }

  private static void printTable(
      int epochs, int repeats, Row nativeRow, Row javaRow, Row torchRow) {
    Console.say("");
    Console.say(
        "Medians of %d repeats, samples/s, training rounds only (evaluation excluded);"
            + " steady = epochs 2..%d",
        repeats, epochs);
    Console.say(
        "%-13s %12s %14s %16s %16s",
        "config", "all epochs", "steady", "steady/pytorch", "paired median");
    double torchSteady = torchRow == null ? Double.NaN : Stats.median(torchRow.steady());
    for (Row row : new Row[] {nativeRow, javaRow, torchRow}) {
      if (row == null) {
        continue;
      }
      double steady = Stats.median(row.steady());
      boolean noRatio = row == torchRow || torchRow == null;
      Console.say(
          "%-13s %12s %14s %16s %16s",
          row.name(),
          Console.rate(Stats.median(row.all())),
          Console.rate(steady),
          noRatio ? "" : ratio(steady / torchSteady),
          noRatio ? "" : ratio(pairedRatio(row, torchRow)));
    }
    Console.say(
        "(steady/pytorch: ratio of the medians; paired median: median of the per-repeat ratios)");
    for (Row row : new Row[] {nativeRow, javaRow}) {
      if (row != null) {
        Console.say(
            "%s final parameters identical across repeats: %s",
            row.name(),
            row.hashes().size() == 1 ? "yes" : "NO (" + row.hashes().size() + " distinct)");
      }
    }
    if (nativeRow != null && torchRow != null) {
      double r = Stats.median(nativeRow.steady()) / torchSteady;
      Console.say(
          "target anvil-native >= 1.20x pytorch (steady): %s, %s",
          ratio(r), r >= 1.2 ? "MET" : "NOT MET");
    }
  }

  private static double pairedRatio(Row row, Row torchRow) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(row.steady().size(), torchRow.steady().size()); i++) {
      ratios.add(row.steady().get(i) / torchRow.steady().get(i));
    }
    return Stats.median(ratios);
  }

  private static JobSpec spec(KernelChoice kernel, int epochs) {
    String text =
        String.format(Locale.ROOT, JOB, DATA, epochs, kernel.name().toLowerCase(Locale.ROOT));
    return JobSpecParser.parse(text, "bench", null);
  }

  /** {@code [epochs, repeats, warm-up epochs]}; prints usage and exits on bad arguments. */
  private static int[] parseArgs(String[] args) {
    int[] options = {3, 3, 3};
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--epochs" -> options[0] = Console.atLeast(args, ++i, 2);
          case "--repeats" -> options[1] = Console.atLeast(args, ++i, 1);
          case "--warmup-epochs" -> options[2] = Console.atLeast(args, ++i, 0);
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println(
          e.getMessage()
              + "\nusage: LocalThroughputBench [--epochs E >= 2 (3)] [--repeats R (3)]"
              + " [--warmup-epochs W (3)]");
      System.exit(2);
    }
    return options;
  }

  private static String ratio(double r) {
    return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.2fx", r);
  }
}
