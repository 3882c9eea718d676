package dev.anvil.core.data;

import dev.anvil.core.random.SplitMix64;

/**
 * A learnable classification set generated deterministically from a seed: each class is a mixture
 * of two Gaussian clusters in feature space (so an MLP beats a linear model on it), labels are
 * drawn uniformly. The same (samples, features, classes, seed) give the same bits anywhere.
 */
public final class SyntheticData {
  private static final int CLUSTERS_PER_CLASS = 2;
  private static final double CENTER_SCALE = 0.6;

  private SyntheticData() {}

  public static Dataset generate(int samples, int features, int classes, long seed) {
    SplitMix64 rng = new SplitMix64(SplitMix64.derive(seed, 0x5EED_DA7AL));
    double[] centers = new double[classes * CLUSTERS_PER_CLASS * features];
    for (int i = 0; i < centers.length; i++) {
      centers[i] = rng.nextGaussian() * CENTER_SCALE;
    }
    float[] x = new float[samples * features];
    int[] labels = new int[samples];
    for (int i = 0; i < samples; i++) {
      int label = rng.nextInt(classes);
      int cluster = label * CLUSTERS_PER_CLASS + rng.nextInt(CLUSTERS_PER_CLASS);
      labels[i] = label;
      for (int j = 0; j < features; j++) {
        x[i * features + j] = (float) (centers[cluster * features + j] + rng.nextGaussian());
      }
    }
    return new Dataset(samples, features, x, classes, labels, 0, null);
  }
}
