package dev.anvil.bench;

import dev.anvil.bench.CheckpointBenchOptions.Optimizer;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import java.util.List;
import java.util.Locale;

/**
 * A model CheckpointBench measures, with its synthetic data and the length of its measured and
 * warm-up jobs (kernel native, batch 128, 16 logical shards).
 */
record BenchModel(
    String name,
    String layers,
    int samples,
    int features,
    int classes,
    int rounds,
    int warmupRounds) {
  /** The models there are, by name. */
  static final List<String> NAMES = List.of("small", "large", "tiny");

  private static final String JOB =
      """
      job {
        name = "%s", seed = 7
        model { type = mlp, layers = [%s], activation = relu }
        data { type = synthetic, samples = %d, features = %d, classes = %d, seed = 11 }
        optimizer { %s }
        batch-size = 128, logical-shards = 16, rounds = %d, kernel = native
        checkpoint { every-rounds = %d, mode = %s }
      }
      """;

  /** Model {@code name}, one of {@link #NAMES}, with jobs of the given lengths. */
  static BenchModel of(String name, int rounds, int warmupRounds) {
    return switch (name) {
      case "small" -> new BenchModel(name, "784, 128, 10", 40_000, 784, 10, rounds, warmupRounds);
      case "large" ->
          new BenchModel(name, "784, 1024, 256, 10", 40_000, 784, 10, rounds, warmupRounds);
      case "tiny" -> new BenchModel(name, "32, 64, 8", 24_000, 32, 8, rounds, warmupRounds);
      default ->
          throw new IllegalArgumentException(
              "model " + name + ": unknown, the models" + " are " + String.join(", ", NAMES));
    };
  }

  /** A job of this model named {@code jobName}, {@code rounds} long, checkpointing as asked. */
  JobSpec spec(String jobName, int rounds, CheckpointMode mode, Optimizer optimizer) {
    String text =
        String.format(
            Locale.ROOT,
            JOB,
            jobName,
            layers,
            samples,
            features,
            classes,
            optimizer.hocon(),
            rounds,
            mode.every(),
            mode.incremental() ? "incremental" : "snapshot");
    return JobSpecParser.parse(text, "bench", null);
  }
}
