package dev.anvil.core.optim;

import dev.anvil.core.spec.OptimizerSpec;

/**
 * Applies one step to the parameters from the mean gradient of a round. Deterministic: plain
 * float arithmetic in index order, {@link StrictMath} where a power or root of a double is needed.
 */
public interface Optimizer {

  /** A fresh state for {@code parameters} parameters. */
  OptimizerState initialState(int parameters);

  /**
   * Updates {@code params} in place with learning rate {@code lr} from {@code grad} (the mean
   * gradient of a round; not modified). The slots of {@code state} are updated in place; the
   * returned state shares them and counts one more step.
   */
  OptimizerState step(float[] params, float[] grad, double lr, OptimizerState state);

  static Optimizer create(OptimizerSpec spec) {
    if (spec instanceof OptimizerSpec.Sgd sgd) {
      return new Sgd(sgd.momentum(), sgd.nesterov(), sgd.weightDecay());
    }
    OptimizerSpec.Adam adam = (OptimizerSpec.Adam) spec;
    return new Adam(adam.beta1(), adam.beta2(), adam.epsilon(), adam.weightDecay());
  }
}
