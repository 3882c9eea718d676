package dev.anvil.core.train;

import dev.anvil.core.optim.LearningRateSchedule;
import dev.anvil.core.optim.Optimizer;

/**
 * Turns a round's reduced gradient sum into the next parameters, the same way on the reference
 * trainer and on the coordinator: divide by the global batch size, clip the global norm when asked,
 * and step the optimizer with the scheduled learning rate.
 *
 * <p>The work may be split over threads ({@link Parallel}) without changing a bit: every element is
 * updated on its own, and the squared norm is a sum of fixed blocks of {@value #NORM_BLOCK}
 * elements (each summed in index order in double), added in block order.
 */
public final class ParameterUpdate {
  static final int NORM_BLOCK = 8192;

  /** The exponent bits of a float: all ones for NaN and infinity. */
  private static final int EXPONENT = 0x7F800000;

  /** One in the exponent field's lowest bit. */
  private static final int EXPONENT_ONE = 0x00800000;

  private final Optimizer optimizer;
  private final LearningRateSchedule schedule;
  private final double clipNorm;
  private final float batchSize;

  public ParameterUpdate(
      Optimizer optimizer, LearningRateSchedule schedule, double clipNorm, int batchSize) {
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.clipNorm = clipNorm;
    this.batchSize = batchSize;
  }

  public TrainingState apply(TrainingState state, GradientSum total) {
    return apply(state, total, Parallel.SEQUENTIAL);
  }

  /**
   * Applies round {@code state.round()}'s gradient {@code total} (consumed: its array becomes the
   * mean gradient) and returns the state after the round. Throws {@link DivergedException} when the
   * gradient or loss is not finite; the parameters are not changed then.
   */
  public TrainingState apply(TrainingState state, GradientSum total, Parallel parallel) {
    float[] g = total.grad();
    int blocks = (g.length + NORM_BLOCK - 1) / NORM_BLOCK;
    int tasks = Math.max(1, Math.min(parallel.width(), blocks));
    double[] partial = new double[blocks];
    boolean clipping = clipNorm > 0;
    parallel.forEach(
        tasks,
        t -> meanAndCheck(g, partial, blocks * t / tasks, blocks * (t + 1) / tasks, clipping));
    double squares = 0;
    for (double p : partial) {
      squares += p;
    }
    if (!Double.isFinite(squares) || !Double.isFinite(total.lossSum())) {
      throw new DivergedException(state.round() + 1, total.lossSum() / total.samples());
    }
    float scale = 1f;
    if (clipping) {
      double norm = Math.sqrt(squares);
      if (norm > clipNorm) {
        scale = (float) (clipNorm / norm);
      }
    }
    float clip = scale;
    double lr = schedule.at(state.round());
    parallel.forEach(
        tasks,
        t -> {
          int from = Math.min(g.length, blocks * t / tasks * NORM_BLOCK);
          int to = Math.min(g.length, blocks * (t + 1) / tasks * NORM_BLOCK);
          if (clip != 1f) {
            for (int i = from; i < to; i++) {
              g[i] *= clip;
            }
          }
          optimizer.update(state.params(), g, lr, state.optimizer(), from, to);
        });
    return new TrainingState(state.round() + 1, state.params(), state.optimizer().advanced());
  }

  /**
   * Divides blocks {@code [fromBlock, toBlock)} of the gradient by the batch size. With clipping,
   * stores each block's sum of squares (double, index order); without, stores 0 for a finite block
   * and infinity for a block holding a NaN or infinity (a cheap check that vectorizes).
   */
  private void meanAndCheck(
      float[] g, double[] partial, int fromBlock, int toBlock, boolean squares) {
    for (int b = fromBlock; b < toBlock; b++) {
      int end = Math.min(g.length, (b + 1) * NORM_BLOCK);
      if (squares) {
        double sum = 0;
        for (int i = b * NORM_BLOCK; i < end; i++) {
          float v = g[i] / batchSize;
          g[i] = v;
          sum += (double) v * v;
        }
        partial[b] = sum;
      } else {
        // Adding one to the exponent field carries into the sign bit only from all ones (NaN,
        // infinity): an OR of those sums has the sign bit set iff the block has one. An OR
        // reduction vectorizes; a min reduction did not.
        int carries = 0;
        for (int i = b * NORM_BLOCK; i < end; i++) {
          float v = g[i] / batchSize;
          g[i] = v;
          carries |= (Float.floatToRawIntBits(v) & EXPONENT) + EXPONENT_ONE;
        }
        partial[b] = carries < 0 ? Double.POSITIVE_INFINITY : 0;
      }
    }
  }

  public double learningRate(long round) {
    return schedule.at(round);
  }
}
