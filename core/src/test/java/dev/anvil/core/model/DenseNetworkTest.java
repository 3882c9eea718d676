package dev.anvil.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.data.Dataset;
import dev.anvil.core.kernel.JavaKernel;
import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.random.SplitMix64;
import dev.anvil.core.spec.Activation;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class DenseNetworkTest {
  private static final int ROWS = 6;

  private static Dataset data(int features, int classes, boolean regression, long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    float[] x = new float[ROWS * features];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    int[] labels = new int[ROWS];
    float[] targets = regression ? new float[ROWS] : null;
    for (int i = 0; i < ROWS; i++) {
      labels[i] = rng.nextInt(classes);
      if (regression) {
        targets[i] = (float) rng.nextGaussian();
      }
    }
    return regression
        ? new Dataset(ROWS, features, x, 0, null, 1, targets)
        : new Dataset(ROWS, features, x, classes, labels, 0, null);
  }

  private static Batch batch(Dataset d) {
    return new Batch(ROWS, d.features(), d.outputs()).fillRange(d, 0, ROWS);
  }

  /** Compares the analytic gradient sum with central finite differences of the loss sum. */
  private static void checkGradient(DenseNetwork model, Dataset d) {
    float[] params = new float[model.parameterCount()];
    model.initialize(params, 3);
    Batch b = batch(d);
    Model.Workspace ws = model.newWorkspace(ROWS);
    float[] grad = new float[params.length];
    double loss = model.gradientSum(params, b, grad, ws);
    assertEquals(model.evaluate(params, b, ws).lossSum(), loss, 1e-6 * Math.abs(loss) + 1e-9);
    double eps = 1e-2;
    int checked = 0;
    for (int i = 0; i < params.length; i++) {
      float saved = params[i];
      params[i] = (float) (saved + eps);
      double up = model.evaluate(params, b, ws).lossSum();
      params[i] = (float) (saved - eps);
      double down = model.evaluate(params, b, ws).lossSum();
      params[i] = saved;
      double numeric = (up - down) / ((double) (float) (saved + eps) - (float) (saved - eps));
      double tolerance = 2e-3 + 2e-2 * Math.abs(numeric);
      int index = i;
      assertEquals(numeric, grad[i], tolerance, () -> model.describe() + " parameter " + index);
      checked++;
    }
    assertEquals(params.length, checked);
  }

  @Test
  void mlpTanhGradientMatchesFiniteDifferences() {
    checkGradient(
        DenseNetwork.mlp(List.of(4, 5, 3), Activation.TANH, JavaKernel.INSTANCE),
        data(4, 3, false, 1));
  }

  @Test
  void deepMlpReluGradientMatchesFiniteDifferences() {
    checkGradient(
        DenseNetwork.mlp(List.of(5, 7, 6, 4), Activation.RELU, JavaKernel.INSTANCE),
        data(5, 4, false, 2));
  }

  @Test
  void softmaxGradientMatchesFiniteDifferences() {
    checkGradient(DenseNetwork.softmax(6, 4, JavaKernel.INSTANCE), data(6, 4, false, 3));
  }

  @Test
  void linearRegressionGradientMatchesFiniteDifferences() {
    checkGradient(DenseNetwork.linear(5, 1, JavaKernel.INSTANCE), data(5, 1, true, 4));
  }

  @Test
  void linearRegressionOnLabelsFitsOneHotTargets() {
    checkGradient(DenseNetwork.linear(5, 3, JavaKernel.INSTANCE), data(5, 3, false, 5));
  }

  @Test
  void parameterLayoutAndDescription() {
    DenseNetwork m = DenseNetwork.mlp(List.of(784, 128, 10), Activation.RELU, JavaKernel.INSTANCE);
    assertEquals(784 * 128 + 128 + 128 * 10 + 10, m.parameterCount());
    assertEquals("mlp 784-128-10 relu (101770 parameters)", m.describe());
    assertTrue(m.classifier());
    assertTrue(!DenseNetwork.linear(3, 1, JavaKernel.INSTANCE).classifier());
  }

  @Test
  void initializationIsSeededAndBounded() {
    DenseNetwork m = DenseNetwork.mlp(List.of(16, 8, 2), Activation.RELU, JavaKernel.INSTANCE);
    float[] a = new float[m.parameterCount()];
    float[] b = new float[m.parameterCount()];
    m.initialize(a, 5);
    m.initialize(b, 5);
    assertEquals(java.util.Arrays.hashCode(a), java.util.Arrays.hashCode(b));
    for (int i = 0; i < 16 * 8 + 8; i++) {
      assertTrue(Math.abs(a[i]) <= 0.25f);
    }
  }

  @Test
  @Tag("native")
  void nativeKernelGradientsAgreeWithJavaKernel() {
    Kernel nativeKernel = Kernels.probeNative().kernel();
    assertTrue(nativeKernel != null, Kernels.probeNative()::problem);
    Dataset d = data(20, 5, false, 6);
    DenseNetwork java = DenseNetwork.mlp(List.of(20, 30, 5), Activation.RELU, JavaKernel.INSTANCE);
    DenseNetwork nat = DenseNetwork.mlp(List.of(20, 30, 5), Activation.RELU, nativeKernel);
    float[] params = new float[java.parameterCount()];
    java.initialize(params, 1);
    float[] g1 = new float[params.length];
    float[] g2 = new float[params.length];
    java.gradientSum(params, batch(d), g1, java.newWorkspace(ROWS));
    nat.gradientSum(params, batch(d), g2, nat.newWorkspace(ROWS));
    for (int i = 0; i < g1.length; i++) {
      assertEquals(g1[i], g2[i], 1e-4 + 1e-4 * Math.abs(g1[i]));
    }
  }
}
