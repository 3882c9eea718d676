package com.example.embedded;

import dev.anvil.core.data.DataShape;
import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.model.Batch;
import dev.anvil.core.model.Evaluation;
import dev.anvil.core.model.Model;

/**
 * The service's own model: multinomial logistic regression written out in plain loops. Anvil trains
 * any {@link Model}; to keep the determinism contract a model computes with fixed-order float
 * arithmetic and {@link StrictMath} (never {@code Math.exp}, which may differ by an ulp between
 * JVMs), single-threaded. A job names it with {@code model { type = class, class =
 * "com.example.embedded.SoftmaxRegression" }}.
 */
public final class SoftmaxRegression implements Model {
  private final int features;
  private final int classes;

  /** Anvil calls this constructor with the data's shape (and a kernel this model ignores). */
  public SoftmaxRegression(DataShape shape, Kernel kernel) {
    this.features = shape.features();
    this.classes = shape.classes();
  }

  /** Scratch space: one row's probabilities. */
  private record Scratch(double[] p) implements Workspace {}

  @Override
  public int parameterCount() {
    return classes * features + classes; // weights, then biases
  }

  @Override
  public void initialize(float[] params, long seed) {
    java.util.Arrays.fill(params, 0f); // convex: zeros are as good a start as any
  }

  @Override
  public boolean classifier() {
    return true;
  }

  @Override
  public Workspace newWorkspace(int maxRows) {
    return new Scratch(new double[classes]);
  }

  @Override
  public double gradientSum(float[] params, Batch batch, float[] grad, Workspace workspace) {
    java.util.Arrays.fill(grad, 0f);
    double[] p = ((Scratch) workspace).p();
    double loss = 0;
    float[] x = batch.x();
    for (int row = 0; row < batch.rows(); row++) {
      int label = batch.labels()[row];
      loss += probabilities(params, x, row, p, label);
      for (int c = 0; c < classes; c++) {
        float d = (float) (p[c] - (c == label ? 1 : 0));
        int w = c * features;
        for (int f = 0; f < features; f++) {
          grad[w + f] += d * x[row * features + f];
        }
        grad[classes * features + c] += d;
      }
    }
    return loss;
  }

  @Override
  public Evaluation evaluate(float[] params, Batch batch, Workspace workspace) {
    double[] p = ((Scratch) workspace).p();
    double loss = 0;
    long correct = 0;
    for (int row = 0; row < batch.rows(); row++) {
      int label = batch.labels()[row];
      loss += probabilities(params, batch.x(), row, p, label);
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (p[c] > p[best]) {
          best = c;
        }
      }
      correct += best == label ? 1 : 0;
    }
    return new Evaluation(loss, correct, batch.rows());
  }

  /** Fills {@code p} with the row's class probabilities; returns -log p[label]. */
  private double probabilities(float[] params, float[] x, int row, double[] p, int label) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < classes; c++) {
      double z = params[classes * features + c];
      int w = c * features;
      for (int f = 0; f < features; f++) {
        z += (double) params[w + f] * x[row * features + f];
      }
      p[c] = z;
      max = Math.max(max, z);
    }
    double sum = 0;
    for (int c = 0; c < classes; c++) {
      p[c] = StrictMath.exp(p[c] - max);
      sum += p[c];
    }
    for (int c = 0; c < classes; c++) {
      p[c] /= sum;
    }
    return -StrictMath.log(Math.max(p[label], 1e-300));
  }

  @Override
  public String describe() {
    return "softmax regression "
        + features
        + "->"
        + classes
        + " ("
        + parameterCount()
        + " parameters, the service's own)";
  }
}
