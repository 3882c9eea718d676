package dev.anvil.core.optim;

import dev.anvil.core.spec.OptimizerSpec;

/**
 * Applies one step to the parameters from the mean gradient of a round. Deterministic: plain float
 * arithmetic in index order, {@link StrictMath} where a power or root of a double is needed.
 */
public interface Optimizer {

  /** A fresh state for {@code parameters} parameters. */
  OptimizerState initialState(int parameters);

  /**
   * Updates {@code params[from, to)} and the same range of the state's slots in place, with
   * learning rate {@code lr}, from {@code grad} (the mean gradient of a round; not modified). Every
   * element is updated independently, so splitting a step into ranges (on several threads) gives
   * the same bits as one call over everything. Does not advance the step count.
   */
  void update(float[] params, float[] grad, double lr, OptimizerState state, int from, int to);

  /** One whole step: {@link #update} over every parameter; returns the state one step on. */
  default OptimizerState step(float[] params, float[] grad, double lr, OptimizerState state) {
    update(params, grad, lr, state, 0, params.length);
    return state.advanced();
  }

  static Optimizer create(OptimizerSpec spec) {
    if (spec instanceof OptimizerSpec.Sgd sgd) {
      return new Sgd(sgd.momentum(), sgd.nesterov(), sgd.weightDecay());
    }
    OptimizerSpec.Adam adam = (OptimizerSpec.Adam) spec;
    return new Adam(adam.beta1(), adam.beta2(), adam.epsilon(), adam.weightDecay());
  }
}
