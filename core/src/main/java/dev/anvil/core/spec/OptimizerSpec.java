package dev.anvil.core.spec;

/** The {@code job.optimizer} section. */
public sealed interface OptimizerSpec {
  double learningRate();

  double weightDecay();

  /** Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay. */
  record Sgd(double learningRate, double momentum, boolean nesterov, double weightDecay)
      implements OptimizerSpec {}

  /** Adam (Kingma and Ba) with L2 weight decay added to the gradient. */
  record Adam(double learningRate, double beta1, double beta2, double epsilon, double weightDecay)
      implements OptimizerSpec {}
}
