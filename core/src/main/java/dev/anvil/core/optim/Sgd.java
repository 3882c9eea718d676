package dev.anvil.core.optim;

/**
 * SGD with optional momentum (PyTorch's formulation: {@code v = mu*v + g}; the step is {@code v},
 * or {@code g + mu*v} with Nesterov) and L2 weight decay ({@code g += wd * p}).
 */
public final class Sgd implements Optimizer {
  private final float momentum;
  private final boolean nesterov;
  private final float weightDecay;

  public Sgd(double momentum, boolean nesterov, double weightDecay) {
    this.momentum = (float) momentum;
    this.nesterov = nesterov;
    this.weightDecay = (float) weightDecay;
  }

  @Override
  public OptimizerState initialState(int parameters) {
    return OptimizerState.initial(momentum == 0f ? 0 : 1, parameters);
  }

  @Override
  public void update(
      float[] params, float[] grad, double lr, OptimizerState state, int from, int to) {
    float rate = (float) lr;
    float[] velocity = momentum == 0f ? null : state.slots()[0];
    boolean first = state.steps() == 0;
    for (int i = from; i < to; i++) {
      float g = grad[i];
      if (weightDecay != 0f) {
        g += weightDecay * params[i];
      }
      if (velocity != null) {
        float v = first ? g : momentum * velocity[i] + g;
        velocity[i] = v;
        g = nesterov ? g + momentum * v : v;
      }
      params[i] -= rate * g;
    }
  }
}
