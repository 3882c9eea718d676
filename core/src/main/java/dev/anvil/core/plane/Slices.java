package dev.anvil.core.plane;

/**
 * How a parameter vector of {@code length} floats is cut into one slice per worker of a data-plane
 * group: slice s is {@code [from(s), from(s + 1))}, balanced to within one cache line (16 floats)
 * and starting on a multiple of 16 so no two owners write the same line. Each slice's owner adds
 * that part of every tree node; addition is element-wise, so the cut never changes a bit.
 */
public record Slices(int length, int workers) {
  static final int ALIGN = 16;

  public Slices {
    if (length < 0 || workers <= 0) {
      throw new IllegalArgumentException(
          "slices need length >= 0 and workers > 0, were " + length + " and " + workers);
    }
  }

  /** The first float of slice {@code s}; {@code from(workers)} is {@code length}. */
  public int from(int s) {
    if (s >= workers) {
      return length;
    }
    long even = (long) s * length / workers;
    return (int) (even / ALIGN * ALIGN);
  }

  public int size(int s) {
    return from(s + 1) - from(s);
  }

  /** The longest slice: what a receive buffer must hold. */
  public int largest() {
    int most = 0;
    for (int s = 0; s < workers; s++) {
      most = Math.max(most, size(s));
    }
    return most;
  }
}
