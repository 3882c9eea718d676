package dev.anvil.core.model;

import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.random.SplitMix64;
import dev.anvil.core.spec.Activation;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Fully connected layers {@code sizes[0] -> sizes[1] -> ... -> sizes[L]} with an activation between
 * them and a loss on the last: the MLP, softmax regression (no hidden layer, cross-entropy) and
 * linear regression (no hidden layer, mean squared error).
 *
 * <p>Parameter layout: for each layer l, its weights {@code W_l} as a row-major {@code sizes[l] x
 * sizes[l+1]} matrix, then its bias of {@code sizes[l+1]} values. Weights and biases start uniform
 * in {@code +-1/sqrt(fan_in)} (PyTorch's default for linear layers).
 */
public final class DenseNetwork implements Model {
  private static final long INIT_STREAM = 0x1A17_0000L;

  /** What the last layer's outputs are scored with. */
  public enum Loss {
    /** Softmax cross-entropy against integer labels. */
    CROSS_ENTROPY,
    /**
     * Mean over outputs of the squared error against real targets, or against one-hot labels when
     * the data has no real targets.
     */
    MEAN_SQUARED_ERROR
  }

  private final int[] sizes;
  private final Activation activation;
  private final Loss loss;
  private final Kernel kernel;
  private final int[] weightOffset;
  private final int[] biasOffset;
  private final int parameterCount;
  private final String name;
  private final DenseStacking stacking;

  public DenseNetwork(
      String name, List<Integer> sizes, Activation activation, Loss loss, Kernel kernel) {
    if (sizes.size() < 2) {
      throw new IllegalArgumentException("a dense network needs at least 2 layer sizes");
    }
    this.name = name;
    this.sizes = sizes.stream().mapToInt(Integer::intValue).toArray();
    this.activation = activation;
    this.loss = loss;
    this.kernel = kernel;
    int layers = this.sizes.length - 1;
    this.weightOffset = new int[layers];
    this.biasOffset = new int[layers];
    long offset = 0;
    for (int l = 0; l < layers; l++) {
      weightOffset[l] = (int) offset;
      offset += (long) this.sizes[l] * this.sizes[l + 1];
      biasOffset[l] = (int) offset;
      offset += this.sizes[l + 1];
      if (offset > Integer.MAX_VALUE - 16) {
        throw new IllegalArgumentException("model " + sizes + " has more than 2^31 parameters");
      }
    }
    this.parameterCount = (int) offset;
    this.stacking = new DenseStacking(this);
  }

  public static DenseNetwork mlp(List<Integer> layers, Activation activation, Kernel kernel) {
    return new DenseNetwork("mlp", layers, activation, Loss.CROSS_ENTROPY, kernel);
  }

  public static DenseNetwork softmax(int inputs, int classes, Kernel kernel) {
    return new DenseNetwork(
        "softmax", List.of(inputs, classes), Activation.RELU, Loss.CROSS_ENTROPY, kernel);
  }

  public static DenseNetwork linear(int inputs, int outputs, Kernel kernel) {
    return new DenseNetwork(
        "linear", List.of(inputs, outputs), Activation.RELU, Loss.MEAN_SQUARED_ERROR, kernel);
  }

  public int inputs() {
    return sizes[0];
  }

  public int outputs() {
    return sizes[sizes.length - 1];
  }

  @Override
  public int parameterCount() {
    return parameterCount;
  }

  @Override
  public boolean classifier() {
    return loss == Loss.CROSS_ENTROPY;
  }

  @Override
  public String describe() {
    String shape =
        Arrays.stream(sizes).mapToObj(Integer::toString).collect(Collectors.joining("-"));
    String act = sizes.length > 2 ? " " + activation.name().toLowerCase() : "";
    return name + " " + shape + act + " (" + parameterCount + " parameters)";
  }

  @Override
  public void initialize(float[] params, long seed) {
    SplitMix64 rng = new SplitMix64(SplitMix64.derive(seed, INIT_STREAM));
    for (int l = 0; l < sizes.length - 1; l++) {
      double bound = 1.0 / StrictMath.sqrt(sizes[l]);
      int end = biasOffset[l] + sizes[l + 1];
      for (int i = weightOffset[l]; i < end; i++) {
        params[i] = (float) ((2.0 * rng.nextDouble() - 1.0) * bound);
      }
    }
  }

  @Override
  public Workspace newWorkspace(int maxRows) {
    return new Scratch(sizes, maxRows);
  }

  @Override
  public Stacking stacking() {
    return stacking;
  }

  int[] sizes() {
    return sizes;
  }

  int weightOffset(int layer) {
    return weightOffset[layer];
  }

  int biasOffset(int layer) {
    return biasOffset[layer];
  }

  Kernel kernel() {
    return kernel;
  }

  /** Activations and their gradients for one thread. */
  static final class Scratch implements Workspace {
    final float[][] activations;
    final float[][] deltas;

    Scratch(int[] sizes, int rows) {
      activations = new float[sizes.length][];
      deltas = new float[sizes.length][];
      for (int l = 1; l < sizes.length; l++) {
        activations[l] = new float[rows * sizes[l]];
        deltas[l] = new float[rows * sizes[l]];
      }
    }
  }

  @Override
  public double gradientSum(float[] params, Batch batch, float[] grad, Workspace workspace) {
    Scratch s = (Scratch) workspace;
    int rows = batch.rows();
    int last = sizes.length - 1;
    forward(params, batch, s);
    double lossSum = lossAndOutputDelta(batch, s.activations[last], s.deltas[last]);
    for (int l = last - 1; l >= 0; l--) {
      float[] input = l == 0 ? batch.x() : s.activations[l];
      float[] delta = s.deltas[l + 1];
      int in = sizes[l];
      int out = sizes[l + 1];
      kernel.gemm(
          true,
          false,
          in,
          out,
          rows,
          input,
          0,
          in,
          delta,
          0,
          out,
          false,
          grad,
          weightOffset[l],
          out);
      columnSums(delta, 0, rows, out, grad, biasOffset[l]);
      if (l > 0) {
        backwardData(params, s, l, 0, rows);
      }
    }
    return lossSum;
  }

  /** The gradient at layer {@code l}'s output from the one at layer {@code l + 1}'s. */
  void backwardData(float[] params, Scratch s, int l, int from, int rows) {
    int in = sizes[l];
    int out = sizes[l + 1];
    float[] below = s.deltas[l];
    kernel.gemm(
        false,
        true,
        rows,
        in,
        out,
        s.deltas[l + 1],
        from * out,
        out,
        params,
        weightOffset[l],
        out,
        false,
        below,
        from * in,
        in);
    activationBackward(s.activations[l], below, from * in, rows * in);
  }

  @Override
  public Evaluation evaluate(float[] params, Batch batch, Workspace workspace) {
    Scratch s = (Scratch) workspace;
    forward(params, batch, s);
    float[] out = s.activations[sizes.length - 1];
    int classes = outputs();
    double lossSum = 0;
    long correct = 0;
    for (int i = 0; i < batch.rows(); i++) {
      if (loss == Loss.CROSS_ENTROPY) {
        int label = batch.labels()[i];
        lossSum += crossEntropy(out, i * classes, classes, label, null);
        int best = 0;
        for (int j = 1; j < classes; j++) {
          if (out[i * classes + j] > out[i * classes + best]) {
            best = j;
          }
        }
        if (best == label) {
          correct++;
        }
      } else {
        lossSum += squaredError(batch, out, i, null);
      }
    }
    return new Evaluation(lossSum, correct, batch.rows());
  }

  /** Fills {@code s.activations[1..L]}; the last holds the raw outputs (logits). */
  void forward(float[] params, Batch batch, Scratch s) {
    for (int l = 0; l < sizes.length - 1; l++) {
      forwardLayer(params, batch, s, l, 0, batch.rows());
    }
  }

  /** Layer {@code l}'s outputs (after its activation) for rows {@code [from, from + rows)}. */
  void forwardLayer(float[] params, Batch batch, Scratch s, int l, int from, int rows) {
    float[] input = l == 0 ? batch.x() : s.activations[l];
    float[] output = s.activations[l + 1];
    int in = sizes[l];
    int out = sizes[l + 1];
    kernel.gemm(
        false,
        false,
        rows,
        out,
        in,
        input,
        from * in,
        in,
        params,
        weightOffset[l],
        out,
        false,
        output,
        from * out,
        out);
    int b = biasOffset[l];
    for (int i = from; i < from + rows; i++) {
      int row = i * out;
      for (int j = 0; j < out; j++) {
        output[row + j] += params[b + j];
      }
    }
    if (l < sizes.length - 2) {
      activate(output, from * out, rows * out);
    }
  }

  private void activate(float[] z, int from, int n) {
    if (activation == Activation.RELU) {
      for (int i = from; i < from + n; i++) {
        z[i] = Math.max(z[i], 0f);
      }
    } else {
      for (int i = from; i < from + n; i++) {
        z[i] = (float) StrictMath.tanh(z[i]);
      }
    }
  }

  /** Multiplies the gradient {@code d} by the activation's derivative at its output {@code a}. */
  private void activationBackward(float[] a, float[] d, int from, int n) {
    if (activation == Activation.RELU) {
      for (int i = from; i < from + n; i++) {
        d[i] = a[i] > 0f ? d[i] : 0f;
      }
    } else {
      for (int i = from; i < from + n; i++) {
        d[i] = d[i] * (1f - a[i] * a[i]);
      }
    }
  }

  private double lossAndOutputDelta(Batch batch, float[] out, float[] delta) {
    return lossAndOutputDelta(batch, 0, batch.rows(), out, delta);
  }

  /** The loss sum of rows {@code [from, from + rows)} in order; writes their output deltas. */
  double lossAndOutputDelta(Batch batch, int from, int rows, float[] out, float[] delta) {
    int classes = outputs();
    double sum = 0;
    for (int i = from; i < from + rows; i++) {
      if (loss == Loss.CROSS_ENTROPY) {
        sum += crossEntropy(out, i * classes, classes, batch.labels()[i], delta);
      } else {
        sum += squaredError(batch, out, i, delta);
      }
    }
    return sum;
  }

  /** Loss of one row; when {@code delta} is given, writes softmax(z) - onehot(label) into it. */
  private static double crossEntropy(float[] z, int off, int classes, int label, float[] delta) {
    float max = z[off];
    for (int j = 1; j < classes; j++) {
      max = Math.max(max, z[off + j]);
    }
    double sumExp = 0;
    for (int j = 0; j < classes; j++) {
      sumExp += StrictMath.exp((double) z[off + j] - max);
    }
    double logSumExp = max + StrictMath.log(sumExp);
    if (delta != null) {
      for (int j = 0; j < classes; j++) {
        double p = StrictMath.exp((double) z[off + j] - logSumExp);
        delta[off + j] = (float) (j == label ? p - 1.0 : p);
      }
    }
    return logSumExp - z[off + label];
  }

  /** Mean squared error of one row over its outputs; the delta is its gradient. */
  private double squaredError(Batch batch, float[] out, int row, float[] delta) {
    int outputs = outputs();
    boolean real = batch.outputs() == outputs && batch.targets().length > 0;
    double sum = 0;
    for (int j = 0; j < outputs; j++) {
      float target =
          real ? batch.targets()[row * outputs + j] : (batch.labels()[row] == j ? 1f : 0f);
      float diff = out[row * outputs + j] - target;
      sum += (double) diff * diff;
      if (delta != null) {
        delta[row * outputs + j] = 2f * diff / outputs;
      }
    }
    return sum / outputs;
  }

  /** Column sums of the {@code rows x cols} matrix at {@code m[from ..]}, rows in order. */
  static void columnSums(float[] m, int from, int rows, int cols, float[] into, int off) {
    Arrays.fill(into, off, off + cols, 0f);
    for (int i = 0; i < rows; i++) {
      int row = from + i * cols;
      for (int j = 0; j < cols; j++) {
        into[off + j] += m[row + j];
      }
    }
  }
}
