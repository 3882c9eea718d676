package dev.anvil.bench;

/**
 * ClusterThroughputBench's command line, read and checked once: {@code repeats} interleaved runs of
 * each model, small for {@code smallEpochs} epochs and large for {@code largeRounds} rounds, after
 * untimed warm-up jobs of {@code warmupSmall} and {@code warmupLarge} rounds; {@code ddp}: measure
 * PyTorch DDP too; {@code tls}: the cluster uses mutual TLS instead of plain TCP.
 */
record ClusterThroughputOptions(
    int repeats,
    int smallEpochs,
    int largeRounds,
    int warmupSmall,
    int warmupLarge,
    boolean ddp,
    boolean tls) {
  static final String USAGE =
      "usage: ClusterThroughputBench [--repeats R (2)] [--small-epochs E >= 2 (2)]"
          + " [--large-rounds N (150)] [--warmup-small-rounds W (1500)]"
          + " [--warmup-large-rounds W (30)] [--no-ddp] [--tls]";

  /**
   * Reads {@code args}; throws IllegalArgumentException naming the option when it is unknown or its
   * value is missing or too small.
   */
  static ClusterThroughputOptions parse(String[] args) {
    int[] v = {2, 2, 150, 1500, 30};
    boolean ddp = true;
    boolean tls = false;
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
    return new ClusterThroughputOptions(v[0], v[1], v[2], v[3], v[4], ddp, tls);
  }
}
