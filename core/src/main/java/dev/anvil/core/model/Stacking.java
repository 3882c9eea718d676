package dev.anvil.core.model;

/**
 * The stacked path of a model whose products are row-independent: a worker stacks the rows of
 * several logical shards into one batch and runs each forward and backward-data product once for
 * many shards (one tall matrix product instead of one per shard), while each shard's gradient is
 * still its own product over its own rows, computed tile by tile so that a node's shards can be
 * added in the reduction tree's order while the tiles sit in cache.
 *
 * <p>Every row of a stacked product must get the bits a product over that shard alone gives, so a
 * kernel's result for a row may not depend on the matrix height. The java kernel guarantees it; a
 * BLAS may pick another micro-kernel by size (OpenBLAS does for small products), so {@code
 * StackGuard} checks every product at every height before a job uses it, and each product then runs
 * in calls of at most the height it passed.
 */
public interface Stacking {

  /** Scratch memory for stacked batches of up to {@code maxRows} rows, owned by one thread. */
  Model.Workspace newWorkspace(int maxRows);

  /** The row-independent products of a pass, in order: the forward ones first. */
  int products();

  /** How many of {@link #products()} come before the loss. */
  int forwardProducts();

  /** A product's name for reports, e.g. "forward 784x128". */
  String product(int p);

  /**
   * Runs product {@code p} (with the element-wise work that follows it: bias, activation or its
   * derivative) for rows {@code [from, from + rows)} of the pass in {@code ws}, as one call.
   */
  void runProduct(int p, float[] params, Batch batch, Model.Workspace ws, int from, int rows);

  /**
   * Writes each shard's loss sum (its rows in order, from 0) into {@code shardLosses} and the
   * gradient at the outputs of every row into {@code ws}; runs after the forward products.
   */
  void loss(Batch batch, int rowsPerShard, double[] shardLosses, Model.Workspace ws);

  /**
   * The whole pass over {@code batch}: product p runs in calls of at most {@code chunks[p]} shards,
   * the loss in between. Keeps what {@link #tileGradient} needs in the workspace.
   */
  default void forwardBackward(
      float[] params,
      Batch batch,
      int rowsPerShard,
      int[] chunks,
      double[] shardLosses,
      Model.Workspace ws) {
    int rows = batch.rows();
    for (int p = 0; p <= products(); p++) {
      if (p == forwardProducts()) {
        loss(batch, rowsPerShard, shardLosses, ws);
      }
      if (p == products()) {
        return;
      }
      int step = chunks[p] * rowsPerShard;
      for (int from = 0; from < rows; from += step) {
        runProduct(p, params, batch, ws, from, Math.min(step, rows - from));
      }
    }
  }

  /**
   * Boundaries of the parameter tiles, ascending from 0 to the parameter count: tile t is {@code
   * [bounds[t], bounds[t+1])}. Each tile is small enough that a node's shard tiles fit in cache.
   */
  int[] tileBounds();

  /**
   * Overwrites {@code out[outOff .. outOff+to-from)} with shard {@code shard}'s gradient sum of the
   * parameters {@code [from, to)} (a tile) from the last pass: the same bits as that slice of
   * {@link Model#gradientSum} over the shard's rows alone.
   */
  void tileGradient(
      Batch batch,
      Model.Workspace ws,
      int shard,
      int rowsPerShard,
      int from,
      int to,
      float[] out,
      int outOff);

  /** Floats per row that {@link #copyRow} writes: every product's output for the row. */
  int rowWidth();

  /** Copies row {@code row}'s values of the last pass into {@code out[off ..]}. */
  void copyRow(Model.Workspace ws, int row, float[] out, int off);

  /** Puts back what {@link #copyRow} copied. */
  void pasteRow(Model.Workspace ws, int row, float[] from, int off);
}
