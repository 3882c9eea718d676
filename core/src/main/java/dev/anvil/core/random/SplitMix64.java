package dev.anvil.core.random;

/**
 * The only random number generator that may feed training: SplitMix64 (Steele, Lea, Flood 2014),
 * written out here so that its sequence is part of Anvil's determinism contract and can never
 * change with a JDK upgrade. Not thread-safe; create one per seed.
 */
public final class SplitMix64 {
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private long state;

  public SplitMix64(long seed) {
    this.state = seed;
  }

  /** The SplitMix64 output function: a bijective 64-bit mix. */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Derives an independent seed from a root seed and a path of stable ids (for example {@code
   * derive(jobSeed, SHARD_EPOCH, shard, epoch)}).
   */
  public static long derive(long root, long... path) {
    long h = mix64(root + GOLDEN_GAMMA);
    for (long part : path) {
      h = mix64(h ^ mix64(part + GOLDEN_GAMMA));
    }
    return h;
  }

  public long nextLong() {
    state += GOLDEN_GAMMA;
    return mix64(state);
  }

  /** Uniform in [0, bound), without modulo bias (Lemire's method with rejection). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be > 0, was " + bound);
    }
    long m = (nextLong() >>> 32) * bound;
    long low = m & 0xFFFFFFFFL;
    if (low < bound) {
      long threshold = (0x100000000L - bound) % bound;
      while (low < threshold) {
        m = (nextLong() >>> 32) * bound;
        low = m & 0xFFFFFFFFL;
      }
    }
    return (int) (m >>> 32);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Standard normal by Box-Muller on {@link StrictMath}, so the same on every JVM and CPU. */
  public double nextGaussian() {
    double u1 = nextDouble();
    double u2 = nextDouble();
    double radius = StrictMath.sqrt(-2.0 * StrictMath.log(1.0 - u1));
    return radius * StrictMath.cos(2.0 * StrictMath.PI * u2);
  }

  /** Fisher-Yates shuffle of {@code values} in place. */
  public void shuffle(int[] values) {
    for (int i = values.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  }
}
