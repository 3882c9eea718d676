package dev.anvil.core.data;

/**
 * Samples held in memory, row-major: {@code x[row * features + j]}. A classification set has {@code
 * labels} in {@code [0, classes)}; a regression set (CSV with a real-valued label) has {@code
 * targets} with {@code outputs} values a row. Both may be present. Immutable by convention: nothing
 * writes to the arrays after loading.
 */
public record Dataset(
    int rows, int features, float[] x, int classes, int[] labels, int outputs, float[] targets) {

  public Dataset {
    if (x.length != (long) rows * features) {
      throw new IllegalArgumentException(
          "x has " + x.length + " values, expected " + rows + "x" + features);
    }
    if (labels != null && labels.length != rows) {
      throw new IllegalArgumentException(
          "labels has " + labels.length + " values, expected " + rows);
    }
    if (targets != null && targets.length != (long) rows * outputs) {
      throw new IllegalArgumentException(
          "targets has " + targets.length + " values, expected " + rows + "x" + outputs);
    }
  }

  public boolean hasLabels() {
    return labels != null;
  }

  /** The rows at {@code indices}, in that order. */
  public Dataset select(int[] indices) {
    float[] sx = new float[indices.length * features];
    int[] sl = labels == null ? null : new int[indices.length];
    float[] st = targets == null ? null : new float[indices.length * outputs];
    for (int i = 0; i < indices.length; i++) {
      int row = indices[i];
      System.arraycopy(x, row * features, sx, i * features, features);
      if (sl != null) {
        sl[i] = labels[row];
      }
      if (st != null) {
        System.arraycopy(targets, row * outputs, st, i * outputs, outputs);
      }
    }
    return new Dataset(indices.length, features, sx, classes, sl, outputs, st);
  }

  /** SHA-256 of the data as loaded (shape, values, labels, targets). */
  public String fingerprint() {
    Digests d = Digests.sha256().add(rows).add(features).add(classes).add(outputs).add(x);
    if (labels != null) {
      d.add(labels);
    }
    if (targets != null) {
      d.add(targets);
    }
    return d.hex();
  }
}
