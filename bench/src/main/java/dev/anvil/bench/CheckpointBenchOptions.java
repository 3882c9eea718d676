package dev.anvil.bench;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * CheckpointBench's command line, read and checked once. {@code models} holds the models asked for
 * with their job lengths; the direct and torch.save parts repeat {@code directReps} times after
 * {@code directWarmup} untimed repetitions; {@code gradientBatch} is the most rounds of gradients
 * the direct part writes at once; {@code direct}, {@code cluster} and {@code torch} say which parts
 * run; {@code checkpointFiles}: the cluster stores checkpoint bytes as files ({@code
 * anvil.checkpoint.directory}).
 */
record CheckpointBenchOptions(
    List<BenchModel> models,
    int repeats,
    int directReps,
    int directWarmup,
    int gradientBatch,
    Optimizer optimizer,
    boolean direct,
    boolean cluster,
    boolean torch,
    boolean checkpointFiles) {
  static final String USAGE =
      "usage: CheckpointBench [--repeats R (3)]"
          + " [--small-rounds N (2000)] [--large-rounds N (300)] [--tiny-rounds N (5000)]"
          + " [--warmup-small-rounds W (1000)] [--warmup-large-rounds W (60)]"
          + " [--warmup-tiny-rounds W (5000)] [--direct-reps N (20)] [--direct-warmup N (5)]"
          + " [--gradient-batch B (20)] [--optimizer sgd|adam (sgd)] [--no-direct] [--no-cluster]"
          + " [--no-torch] [--models small,large,tiny (small,large)] [--checkpoint-directory]";

  /** The optimizer of every job: SGD with momentum (one state slot) or Adam (two). */
  enum Optimizer {
    SGD("type = sgd, learning-rate = 0.05, momentum = 0.9"),
    ADAM("type = adam, learning-rate = 0.001");

    private final String hocon;

    Optimizer(String hocon) {
      this.hocon = hocon;
    }

    /** The job spec's {@code optimizer { ... }} settings. */
    String hocon() {
      return hocon;
    }

    /** As on the command line: sgd or adam. */
    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** An integer option, its default and its least value. */
  private record IntOption(String name, int fallback, int least) {}

  // A job needs more than 10 rounds to checkpoint at all (every 10 and 50 are measured).
  private static final List<IntOption> INTEGERS =
      List.of(
          new IntOption("--repeats", 3, 1),
          new IntOption("--small-rounds", 2000, 11),
          new IntOption("--large-rounds", 300, 11),
          new IntOption("--tiny-rounds", 5000, 11),
          new IntOption("--warmup-small-rounds", 1000, 11),
          new IntOption("--warmup-large-rounds", 60, 11),
          new IntOption("--warmup-tiny-rounds", 5000, 11),
          new IntOption("--direct-reps", 20, 1),
          new IntOption("--direct-warmup", 5, 0),
          new IntOption("--gradient-batch", 20, 1));

  /**
   * Reads {@code args}; throws IllegalArgumentException naming the option, the value and what it
   * allows when an option is unknown, lacks its value or has one it does not allow.
   */
  static CheckpointBenchOptions parse(String[] args) {
    Map<String, Integer> integers = new LinkedHashMap<>();
    INTEGERS.forEach(o -> integers.put(o.name(), o.fallback()));
    Optimizer optimizer = Optimizer.SGD;
    List<String> models = List.of("small", "large");
    boolean direct = true;
    boolean cluster = true;
    boolean torch = true;
    boolean files = false;
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (integers.containsKey(option)) {
        integers.put(option, integer(option, value(args, ++i)));
        continue;
      }
      switch (option) {
        case "--optimizer" -> optimizer = optimizer(value(args, ++i));
        case "--models" -> models = modelNames(value(args, ++i));
        case "--no-direct" -> direct = false;
        case "--no-cluster" -> cluster = false;
        case "--no-torch" -> torch = false;
        case "--checkpoint-directory" -> files = true;
        default -> throw new IllegalArgumentException(option + ": unknown option");
      }
    }
    List<BenchModel> chosen =
        models.stream()
            .map(
                name ->
                    BenchModel.of(
                        name,
                        integers.get("--" + name + "-rounds"),
                        integers.get("--warmup-" + name + "-rounds")))
            .toList();
    return new CheckpointBenchOptions(
        chosen,
        integers.get("--repeats"),
        integers.get("--direct-reps"),
        integers.get("--direct-warmup"),
        integers.get("--gradient-batch"),
        optimizer,
        direct,
        cluster,
        torch,
        files);
  }

  /** The value after option {@code args[i - 1]}. */
  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + ": needs a value");
    }
    return args[i];
  }

  private static int integer(String option, String value) {
    int least =
        INTEGERS.stream().filter(o -> o.name().equals(option)).findFirst().orElseThrow().least();
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      n = Integer.MIN_VALUE;
    }
    if (n < least) {
      throw new IllegalArgumentException(
          option + " = " + value + ": must be an integer >= " + least);
    }
    return n;
  }

  private static Optimizer optimizer(String value) {
    for (Optimizer o : Optimizer.values()) {
      if (o.label().equals(value)) {
        return o;
      }
    }
    throw new IllegalArgumentException("--optimizer = " + value + ": must be sgd or adam");
  }

  private static List<String> modelNames(String value) {
    List<String> names = List.of(value.split(",", -1));
    if (!BenchModel.NAMES.containsAll(names) || new HashSet<>(names).size() != names.size()) {
      throw new IllegalArgumentException(
          "--models = "
              + value
              + ": must be a comma-separated"
              + " list of distinct names among "
              + String.join(", ", BenchModel.NAMES)
              + ", e.g. small,large");
    }
    return names;
  }
}
