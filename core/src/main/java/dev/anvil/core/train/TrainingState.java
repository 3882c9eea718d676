package dev.anvil.core.train;

import dev.anvil.core.optim.OptimizerState;

/**
 * What a checkpoint holds: the parameters after {@code round} rounds and the optimizer state that
 * goes with them. Owned by one trainer; copy before sharing.
 */
public record TrainingState(long round, float[] params, OptimizerState optimizer) {
  public TrainingState copy() {
    return new TrainingState(round, params.clone(), optimizer.copy());
  }
}
