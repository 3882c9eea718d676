package dev.anvil.bench;

import dev.anvil.core.spec.KernelChoice;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * LocalThroughputBench's command line, read and checked once: the {@code model} trained, {@code
 * epochs} per run, {@code repeats} interleaved runs of each configuration after {@code
 * warmupEpochs} untimed epochs per Anvil kernel; {@code kernels}: the Anvil rows, {@code torch}:
 * the PyTorch rows. Kernels and PyTorch configurations not given default to the model's.
 */
record LocalThroughputOptions(
    Model model,
    int epochs,
    int repeats,
    int warmupEpochs,
    List<KernelChoice> kernels,
    List<PyTorchPeer.Config> torch) {
  static final String USAGE =
      "usage: LocalThroughputBench [--model small|large (small)] [--epochs E >= 2 (3)]"
          + " [--repeats R (3)] [--warmup-epochs W (3)]"
          + " [--kernels native|java|native,java (small: native,java; large: native)]"
          + " [--torch 1core|blasfree|1core,blasfree (small: 1core; large: 1core,blasfree)]";

  /**
   * The MLPs, as the peer's {@code train_single.py --model} names them, with their default rows.
   * The java kernel is about 20x slower than native on the large model, so a large run leaves it
   * out unless asked. PyTorch's fastest single process on the large model lets OpenBLAS use every
   * core (the peer README: about 1.5x strictly one core), so a large run measures both.
   */
  enum Model {
    SMALL(
        "784, 128, 10",
        List.of(KernelChoice.NATIVE, KernelChoice.JAVA),
        List.of(PyTorchPeer.Config.ONE_CORE)),
    LARGE(
        "784, 1024, 1024, 10",
        List.of(KernelChoice.NATIVE),
        List.of(PyTorchPeer.Config.ONE_CORE, PyTorchPeer.Config.BLAS_FREE));

    private final String layers;
    private final List<KernelChoice> kernels;
    private final List<PyTorchPeer.Config> torch;

    Model(String layers, List<KernelChoice> kernels, List<PyTorchPeer.Config> torch) {
      this.layers = layers;
      this.kernels = kernels;
      this.torch = torch;
    }

    /** The job spec's {@code layers = [...]}. */
    String layers() {
      return layers;
    }

    /** As on the command line and for {@code train_single.py --model}: small or large. */
    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final List<KernelChoice> KERNELS = List.of(KernelChoice.NATIVE, KernelChoice.JAVA);

  /**
   * Reads {@code args}; throws IllegalArgumentException naming the option, the value and what it
   * allows when an option is unknown, lacks its value or has one it does not allow.
   */
  static LocalThroughputOptions parse(String[] args) {
    Model model = Model.SMALL;
    int[] counts = {3, 3, 3};
    List<KernelChoice> kernels = null;
    List<PyTorchPeer.Config> torch = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--model" -> model = model(value(args, ++i));
        case "--epochs" -> counts[0] = Console.atLeast(args, ++i, 2);
        case "--repeats" -> counts[1] = Console.atLeast(args, ++i, 1);
        case "--warmup-epochs" -> counts[2] = Console.atLeast(args, ++i, 0);
        case "--kernels" ->
            kernels =
                distinct(
                    "--kernels", value(args, ++i), KERNELS, k -> k.name().toLowerCase(Locale.ROOT));
        case "--torch" ->
            torch =
                distinct(
                    "--torch",
                    value(args, ++i),
                    List.of(PyTorchPeer.Config.values()),
                    PyTorchPeer.Config::label);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    return new LocalThroughputOptions(
        model,
        counts[0],
        counts[1],
        counts[2],
        kernels == null ? model.kernels : kernels,
        torch == null ? model.torch : torch);
  }

  /** The value after option {@code args[i - 1]}. */
  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  private static Model model(String value) {
    for (Model m : Model.values()) {
      if (m.label().equals(value)) {
        return m;
      }
    }
    throw new IllegalArgumentException("--model = " + value + ": must be small or large");
  }

  /** {@code value} as a comma-separated list of distinct labels of {@code allowed}, in order. */
  private static <E> List<E> distinct(
      String option, String value, List<E> allowed, Function<E, String> label) {
    List<String> names = List.of(value.split(",", -1));
    List<String> labels = allowed.stream().map(label).toList();
    if (!labels.containsAll(names) || new HashSet<>(names).size() != names.size()) {
      throw new IllegalArgumentException(
          option
              + " = "
              + value
              + ": must be a comma-separated list of distinct names among "
              + String.join(", ", labels));
    }
    return names.stream().map(n -> allowed.get(labels.indexOf(n))).toList();
  }
}
