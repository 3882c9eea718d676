package dev.anvil.core.train;

import dev.anvil.core.optim.LearningRateSchedule;
import dev.anvil.core.optim.Optimizer;
import dev.anvil.core.optim.OptimizerState;

/**
 * Turns a round's reduced gradient sum into the next parameters, the same way on the reference
 * trainer and on the coordinator: divide by the global batch size, clip the global norm when
 * asked, and step the optimizer with the scheduled learning rate.
 */
public final class ParameterUpdate {
  private final Optimizer optimizer;
  private final LearningRateSchedule schedule;
  private final double clipNorm;
  private final float batchSize;

  public ParameterUpdate(Optimizer optimizer, LearningRateSchedule schedule, double clipNorm,
      int batchSize) {
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.clipNorm = clipNorm;
    this.batchSize = batchSize;
  }

  /**
   * Applies round {@code state.round()}'s gradient {@code total} (consumed: its array becomes the
   * mean gradient) and returns the state after the round. Throws {@link DivergedException} when
   * the gradient is not finite; nothing is changed then.
   */
  public TrainingState apply(TrainingState state, GradientSum total) {
    float[] g = total.grad();
    double squares = 0;
    for (int i = 0; i < g.length; i++) {
      g[i] = g[i] / batchSize;
      squares += (double) g[i] * g[i];
    }
    if (!Double.isFinite(squares) || !Double.isFinite(total.lossSum())) {
      throw new DivergedException(state.round() + 1, total.lossSum() / total.samples());
    }
    if (clipNorm > 0) {
      double norm = Math.sqrt(squares);
      if (norm > clipNorm) {
        float scale = (float) (clipNorm / norm);
        for (int i = 0; i < g.length; i++) {
          g[i] *= scale;
        }
      }
    }
    OptimizerState next = optimizer.step(state.params(), g, schedule.at(state.round()),
        state.optimizer());
    return new TrainingState(state.round() + 1, state.params(), next);
  }

  public double learningRate(long round) {
    return schedule.at(round);
  }
}
