package dev.anvil.core.model;

import dev.anvil.core.data.Dataset;

/**
 * A reusable buffer of up to {@code capacity} samples gathered from a {@link Dataset}: inputs
 * row-major in {@code x}, and labels and/or targets when the data set has them. One per thread.
 */
public final class Batch {
  private final int features;
  private final int outputs;
  private final float[] x;
  private final int[] labels;
  private final float[] targets;
  private int rows;

  public Batch(int capacity, int features, int outputs) {
    this.features = features;
    this.outputs = outputs;
    this.x = new float[capacity * features];
    this.labels = new int[capacity];
    this.targets = new float[capacity * Math.max(outputs, 0)];
  }

  /** Copies the rows {@code indices[from .. from+count)} of {@code data} into this batch. */
  public Batch fill(Dataset data, int[] indices, int from, int count) {
    return fillAt(0, data, indices, from, count);
  }

  /**
   * Copies the rows {@code indices[from .. from+count)} of {@code data} into this batch's rows
   * {@code [at, at+count)}, keeping rows before {@code at}: the batch then has {@code at+count}
   * rows. Stacks shards one after another.
   */
  public Batch fillAt(int at, Dataset data, int[] indices, int from, int count) {
    if (at < 0 || count > labels.length - at) {
      throw new IllegalArgumentException(
          "batch of " + at + " + " + count + " rows exceeds capacity " + labels.length);
    }
    float[] dx = data.x();
    for (int i = at; i < at + count; i++) {
      int row = indices[from + i - at];
      System.arraycopy(dx, row * features, x, i * features, features);
      if (data.labels() != null) {
        labels[i] = data.labels()[row];
      }
      if (data.targets() != null) {
        System.arraycopy(data.targets(), row * outputs, targets, i * outputs, outputs);
      }
    }
    this.rows = at + count;
    return this;
  }

  /** Copies the contiguous rows {@code [from, from+count)} of {@code data}. */
  public Batch fillRange(Dataset data, int from, int count) {
    if (count > labels.length) {
      throw new IllegalArgumentException(
          "batch of " + count + " rows exceeds capacity " + labels.length);
    }
    System.arraycopy(data.x(), from * features, x, 0, count * features);
    if (data.labels() != null) {
      System.arraycopy(data.labels(), from, labels, 0, count);
    }
    if (data.targets() != null) {
      System.arraycopy(data.targets(), from * outputs, targets, 0, count * outputs);
    }
    this.rows = count;
    return this;
  }

  public int rows() {
    return rows;
  }

  public int features() {
    return features;
  }

  /** Inputs, row-major; only the first {@code rows() * features()} values are this batch's. */
  public float[] x() {
    return x;
  }

  public int[] labels() {
    return labels;
  }

  /** Real targets, {@code outputs} a row, when the data set has them (CSV regression). */
  public float[] targets() {
    return targets;
  }

  public int outputs() {
    return outputs;
  }
}
