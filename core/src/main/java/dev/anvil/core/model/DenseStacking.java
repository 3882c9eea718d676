package dev.anvil.core.model;

import java.util.stream.IntStream;

/**
 * The stacked path of a {@link DenseNetwork}: forward and backward-data over all stacked rows at
 * once, weight gradients per shard in tiles: a layer's bias, and bands of whole weight-matrix rows
 * of about {@value #TILE_FLOATS} floats (the whole matrix when the model is small).
 */
final class DenseStacking implements Stacking {
  /** 64 KiB: a node's shard tiles, a few levels of the tree deep, stay in a core's L2 cache. */
  static final int TILE_FLOATS = 16 * 1024;

  /**
   * Models up to 1 MiB of parameters stay in cache whole: there a tile is a whole weight matrix,
   * one product per shard and layer, since smaller tiles only add calls (WeightGradientBench: the
   * 784-128-10 MLP's gradients took 0.70 ms a node in 64 KiB tiles, 0.46 ms whole).
   */
  static final int WHOLE_LAYER_FLOATS = 256 * 1024;

  private final DenseNetwork net;
  private final int[] sizes;
  private final int[] bounds;
  private final int rowWidth;

  DenseStacking(DenseNetwork net) {
    this.net = net;
    this.sizes = net.sizes();
    IntStream.Builder b = IntStream.builder();
    int width = 0;
    for (int l = 0; l < sizes.length - 1; l++) {
      int out = sizes[l + 1];
      int band =
          net.parameterCount() <= WHOLE_LAYER_FLOATS ? sizes[l] : Math.max(1, TILE_FLOATS / out);
      for (int row = 0; row < sizes[l]; row += band) {
        b.add(net.weightOffset(l) + row * out);
      }
      b.add(net.biasOffset(l));
      width += 2 * out;
    }
    this.bounds = b.add(net.parameterCount()).build().toArray();
    this.rowWidth = width;
  }

  @Override
  public Model.Workspace newWorkspace(int maxRows) {
    return new DenseNetwork.Scratch(sizes, maxRows);
  }

  @Override
  public int products() {
    return 2 * (sizes.length - 1) - 1;
  }

  @Override
  public int forwardProducts() {
    return sizes.length - 1;
  }

  /** Forward products are layers 0..L-1; then backward-data for layers L-1 down to 1. */
  private int layerOf(int p) {
    int layers = sizes.length - 1;
    return p < layers ? p : 2 * layers - 1 - p;
  }

  @Override
  public String product(int p) {
    int l = layerOf(p);
    return p < forwardProducts()
        ? "forward " + sizes[l] + "x" + sizes[l + 1]
        : "backward " + sizes[l + 1] + "x" + sizes[l];
  }

  @Override
  public void runProduct(
      int p, float[] params, Batch batch, Model.Workspace ws, int from, int rows) {
    DenseNetwork.Scratch s = (DenseNetwork.Scratch) ws;
    if (p < forwardProducts()) {
      net.forwardLayer(params, batch, s, layerOf(p), from, rows);
    } else {
      net.backwardData(params, s, layerOf(p), from, rows);
    }
  }

  @Override
  public void loss(Batch batch, int rowsPerShard, double[] shardLosses, Model.Workspace ws) {
    DenseNetwork.Scratch s = (DenseNetwork.Scratch) ws;
    int last = sizes.length - 1;
    for (int shard = 0; shard * rowsPerShard < batch.rows(); shard++) {
      shardLosses[shard] =
          net.lossAndOutputDelta(
              batch, shard * rowsPerShard, rowsPerShard, s.activations[last], s.deltas[last]);
    }
  }

  @Override
  public int[] tileBounds() {
    return bounds.clone();
  }

  @Override
  public void tileGradient(
      Batch batch,
      Model.Workspace ws,
      int shard,
      int rowsPerShard,
      int from,
      int to,
      float[] out,
      int outOff) {
    DenseNetwork.Scratch s = (DenseNetwork.Scratch) ws;
    int l = 0;
    while (l + 1 < sizes.length - 1 && net.weightOffset(l + 1) <= from) {
      l++;
    }
    int in = sizes[l];
    int width = sizes[l + 1];
    int row0 = shard * rowsPerShard;
    float[] delta = s.deltas[l + 1];
    if (from >= net.biasOffset(l)) {
      DenseNetwork.columnSums(delta, row0 * width, rowsPerShard, width, out, outOff);
      return;
    }
    int first = (from - net.weightOffset(l)) / width;
    int end = (to - net.weightOffset(l)) / width;
    float[] input = l == 0 ? batch.x() : s.activations[l];
    net.kernel()
        .gemm(
            true,
            false,
            end - first,
            width,
            rowsPerShard,
            input,
            row0 * in + first,
            in,
            delta,
            row0 * width,
            width,
            false,
            out,
            outOff,
            width);
  }

  @Override
  public int rowWidth() {
    return rowWidth;
  }

  @Override
  public void copyRow(Model.Workspace ws, int row, float[] out, int off) {
    DenseNetwork.Scratch s = (DenseNetwork.Scratch) ws;
    for (int l = 1; l < sizes.length; l++) {
      int w = sizes[l];
      System.arraycopy(s.activations[l], row * w, out, off, w);
      off += w;
      System.arraycopy(s.deltas[l], row * w, out, off, w);
      off += w;
    }
  }

  @Override
  public void pasteRow(Model.Workspace ws, int row, float[] from, int off) {
    DenseNetwork.Scratch s = (DenseNetwork.Scratch) ws;
    for (int l = 1; l < sizes.length; l++) {
      int w = sizes[l];
      System.arraycopy(from, off, s.activations[l], row * w, w);
      off += w;
      System.arraycopy(from, off, s.deltas[l], row * w, w);
      off += w;
    }
  }
}
