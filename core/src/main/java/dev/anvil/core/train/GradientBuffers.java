package dev.anvil.core.train;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small thread-safe pool of parameter-sized arrays, so that a round's gradient sums do not
 * allocate (and zero) a parameter vector per shard. Holds at most {@code capacity} spare arrays.
 */
public final class GradientBuffers {
  private final int length;
  private final int capacity;
  private final ConcurrentLinkedDeque<float[]> spare = new ConcurrentLinkedDeque<>();
  private final AtomicInteger size = new AtomicInteger();

  public GradientBuffers(int length, int capacity) {
    this.length = length;
    this.capacity = capacity;
  }

  /** An array of the parameter length with arbitrary contents. */
  public float[] acquire() {
    float[] g = spare.pollFirst();
    if (g != null) {
      size.decrementAndGet();
      return g;
    }
    return new float[length];
  }

  public void release(float[] g) {
    if (g.length == length && size.incrementAndGet() <= capacity) {
      spare.offerFirst(g);
    } else {
      size.decrementAndGet();
    }
  }
}
