package dev.anvil.core.optim;

/**
 * Adam with bias correction; L2 weight decay is added to the gradient. Moments are float; the bias
 * corrections are computed in double with {@link StrictMath#pow} so they are the same everywhere.
 */
public final class Adam implements Optimizer {
  private final float beta1;
  private final float beta2;
  private final float epsilon;
  private final float weightDecay;
  private final double beta1d;
  private final double beta2d;

  public Adam(double beta1, double beta2, double epsilon, double weightDecay) {
    this.beta1 = (float) beta1;
    this.beta2 = (float) beta2;
    this.epsilon = (float) epsilon;
    this.weightDecay = (float) weightDecay;
    this.beta1d = beta1;
    this.beta2d = beta2;
  }

  @Override
  public OptimizerState initialState(int parameters) {
    return OptimizerState.initial(2, parameters);
  }

  @Override
  public void update(
      float[] params, float[] grad, double lr, OptimizerState state, int from, int to) {
    long t = state.steps() + 1;
    float[] m = state.slots()[0];
    float[] v = state.slots()[1];
    float correction1 = (float) (1.0 - StrictMath.pow(beta1d, t));
    float correction2 = (float) StrictMath.sqrt(1.0 - StrictMath.pow(beta2d, t));
    float stepSize = (float) lr / correction1;
    float oneMinusBeta1 = 1f - beta1;
    float oneMinusBeta2 = 1f - beta2;
    for (int i = from; i < to; i++) {
      float g = grad[i];
      if (weightDecay != 0f) {
        g += weightDecay * params[i];
      }
      float mi = beta1 * m[i] + oneMinusBeta1 * g;
      float vi = beta2 * v[i] + oneMinusBeta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      float denom = (float) Math.sqrt(vi) / correction2 + epsilon;
      params[i] -= stepSize * mi / denom;
    }
  }
}
