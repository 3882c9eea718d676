package dev.anvil.core.train;

/**
 * The sum over some samples of their loss gradients, their losses and their count: what a logical
 * shard, or a tree node of shards, contributes to a round. The array is owned by whoever holds this
 * value; {@link #plus} consumes both operands.
 */
public record GradientSum(float[] grad, double lossSum, long samples) {

  /**
   * Adds {@code right} into this value's array (element-wise, in index order) and returns the sum,
   * which owns this array. Float addition is commutative, so only the tree's shape, not operand
   * order, fixes the bits.
   */
  public GradientSum plus(GradientSum right) {
    float[] a = grad;
    float[] b = right.grad;
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "gradient lengths differ: " + a.length + " vs " + b.length);
    }
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return new GradientSum(a, lossSum + right.lossSum, samples + right.samples);
  }
}
