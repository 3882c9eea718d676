package dev.anvil.core.model;

import dev.anvil.core.data.DataShape;
import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.spec.Activation;
import java.util.List;

/**
 * An MLP whose stacked path goes wrong the way a BLAS that changes micro-kernel by height would:
 * {@link AtHeight5} computes different bits when its first product is called for exactly 5 shards
 * of {@value #ROWS_PER_SHARD} rows, {@link InTiles} for every tiled weight gradient. What {@code
 * StackGuard} must catch.
 */
public abstract class SkewedStackModel extends WrappedModel {
  /** The rows of a shard in the test jobs that use this model. */
  static final int ROWS_PER_SHARD = 12;

  private final Stacking stacking;

  SkewedStackModel(DataShape shape, Kernel kernel, boolean height5, boolean tiles) {
    super(DenseNetwork.mlp(List.of(shape.features(), 8, shape.classes()), Activation.RELU, kernel));
    Stacking real = inner.stacking();
    this.stacking =
        new Stacking() {
          @Override
          public Workspace newWorkspace(int maxRows) {
            return real.newWorkspace(maxRows);
          }

          @Override
          public int products() {
            return real.products();
          }

          @Override
          public int forwardProducts() {
            return real.forwardProducts();
          }

          @Override
          public String product(int p) {
            return real.product(p);
          }

          @Override
          public void runProduct(
              int p, float[] params, Batch batch, Workspace ws, int from, int rows) {
            float[] q = params;
            if (height5 && p == 0 && rows == 5 * ROWS_PER_SHARD) {
              q = params.clone();
              q[0] = Math.nextUp(q[0]);
            }
            real.runProduct(p, q, batch, ws, from, rows);
          }

          @Override
          public void loss(Batch batch, int rowsPerShard, double[] losses, Workspace ws) {
            real.loss(batch, rowsPerShard, losses, ws);
          }

          @Override
          public int[] tileBounds() {
            return real.tileBounds();
          }

          @Override
          public void tileGradient(
              Batch batch,
              Workspace ws,
              int shard,
              int rowsPerShard,
              int from,
              int to,
              float[] out,
              int outOff) {
            real.tileGradient(batch, ws, shard, rowsPerShard, from, to, out, outOff);
            if (tiles) {
              out[outOff] = Math.nextUp(out[outOff]);
            }
          }

          @Override
          public int rowWidth() {
            return real.rowWidth();
          }

          @Override
          public void copyRow(Workspace ws, int row, float[] out, int off) {
            real.copyRow(ws, row, out, off);
          }

          @Override
          public void pasteRow(Workspace ws, int row, float[] from, int off) {
            real.pasteRow(ws, row, from, off);
          }
        };
  }

  @Override
  public Stacking stacking() {
    return stacking;
  }

  @Override
  public String describe() {
    return "skewed " + inner.describe();
  }

  /** Wrong bits for a pass of exactly 5 shards. */
  public static final class AtHeight5 extends SkewedStackModel {
    public AtHeight5(DataShape shape, Kernel kernel) {
      super(shape, kernel, true, false);
    }
  }

  /** Wrong bits in every tiled weight gradient. */
  public static final class InTiles extends SkewedStackModel {
    public InTiles(DataShape shape, Kernel kernel) {
      super(shape, kernel, false, true);
    }
  }
}
