package dev.anvil.core.train;

import dev.anvil.core.data.Dataset;
import dev.anvil.core.model.Batch;
import dev.anvil.core.model.Model;
import dev.anvil.core.model.Stacking;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, once per job and machine, how tall each product of a stacked pass may be. A BLAS may
 * pick another micro-kernel for a taller matrix (OpenBLAS has a separate kernel for small
 * products), and then a row's bits would depend on how many shards sit beside it. On the job's real
 * round-0 data and initial parameters, with H the most shards a pass may hold:
 *
 * <ol>
 *   <li>each of shards 0..H-1 alone: every row's layer outputs and their gradients, and the shard's
 *       loss; for shard 0 also its tiled weight gradient against {@link Model#gradientSum};
 *   <li>the H shards stacked, every product called per shard: the same bits at every position;
 *   <li>for every product and every height h from 2 to H, one call over the first h shards on the
 *       same inputs: the same bits as the per-shard calls. A product runs in calls no taller than
 *       the last height before its first mismatch;
 *   <li>the whole stacked pass with those heights: the same bits again.
 * </ol>
 *
 * A mismatch in 1, 2 or 4 turns stacking off for the job on this machine (it runs shard by shard,
 * as before stacking existed); 3 only lowers that product's height.
 */
public final class StackGuard {
  /** The tallest stacked pass, in rows: past this a taller product is hardly any faster. */
  public static final int MAX_STACK_ROWS = 256;

  private static final Logger log = LoggerFactory.getLogger(StackGuard.class);

  private final Stacking stacking;
  private final float[] params;
  private final Batch batch;
  private final Model.Workspace ws;
  private final int rows;
  private final int height;
  private final int width;
  private final float[] reference;
  private final double[] referenceLoss;
  private final double[] losses;
  private final float[] row;

  private StackGuard(PreparedJob job, Stacking stacking, int height) {
    Dataset train = job.data().train();
    this.stacking = stacking;
    this.params = job.initialState().params();
    this.rows = job.sampler().perShardBatch();
    this.height = height;
    this.width = stacking.rowWidth();
    this.batch = new Batch(height * rows, train.features(), train.outputs());
    this.ws = stacking.newWorkspace(height * rows);
    this.reference = new float[height * rows * width];
    this.referenceLoss = new double[height];
    this.losses = new double[height];
    this.row = new float[width];
  }

  public static StackReport check(PreparedJob job) {
    Model model = job.model();
    Stacking stacking = model.stacking();
    int rows = job.sampler().perShardBatch();
    if (stacking == null) {
      return StackReport.unstacked(
          rows, "the model (" + model.describe() + ") has no stacked path");
    }
    int height = Math.min(job.tree().leaves(), Math.max(1, MAX_STACK_ROWS / rows));
    StackReport report = new StackGuard(job, stacking, height).run(job, model);
    if (report.problem() != null) {
      log.warn("job {}: {}", job.spec().name(), report.summary());
    } else {
      log.info("job {}: {}", job.spec().name(), report.summary());
    }
    return report;
  }

  private StackReport run(PreparedJob job, Model model) {
    int[] perShard = new int[stacking.products()];
    Arrays.fill(perShard, 1);
    for (int shard = 0; shard < height; shard++) {
      load(job, shard, 1);
      stacking.forwardBackward(params, batch, rows, perShard, losses, ws);
      referenceLoss[shard] = losses[0];
      for (int r = 0; r < rows; r++) {
        stacking.copyRow(ws, r, reference, (shard * rows + r) * width);
      }
      if (shard == 0 && !tilesMatch(model)) {
        return StackReport.unstacked(
            rows, "tiled weight gradients differ from whole-matrix ones with this kernel");
      }
    }
    load(job, 0, height);
    stacking.forwardBackward(params, batch, rows, perShard, losses, ws);
    if (!passMatches()) {
      return StackReport.unstacked(
          rows, "per-shard calls give other bits at another position in the batch");
    }
    List<StackReport.ProductCheck> checks = new ArrayList<>();
    int[] chunks = new int[stacking.products()];
    for (int p = 0; p < stacking.products(); p++) {
      int differsAt = 0;
      for (int h = 2; h <= height && differsAt == 0; h++) {
        stacking.runProduct(p, params, batch, ws, 0, h * rows);
        if (!rowsMatch(h * rows)) {
          differsAt = h;
        }
        for (int r = 0; r < h * rows; r++) {
          stacking.pasteRow(ws, r, reference, r * width);
        }
      }
      chunks[p] = differsAt == 0 ? height : differsAt - 1;
      checks.add(new StackReport.ProductCheck(stacking.product(p), chunks[p], differsAt));
    }
    stacking.forwardBackward(params, batch, rows, chunks, losses, ws);
    if (!passMatches()) {
      return StackReport.unstacked(
          rows, "a stacked pass of checked products still gave other bits");
    }
    return new StackReport(rows, height, checks, null);
  }

  private void load(PreparedJob job, int first, int shards) {
    ShardSampler sampler = job.sampler();
    for (int i = 0; i < shards; i++) {
      batch.fillAt(
          i * rows,
          job.data().train(),
          sampler.epochOrder(first + i, sampler.epochOf(0)),
          sampler.offsetOf(0),
          rows);
    }
  }

  private boolean passMatches() {
    for (int shard = 0; shard < height; shard++) {
      if (Double.doubleToRawLongBits(losses[shard])
          != Double.doubleToRawLongBits(referenceLoss[shard])) {
        return false;
      }
    }
    return rowsMatch(height * rows);
  }

  private boolean rowsMatch(int count) {
    for (int r = 0; r < count; r++) {
      stacking.copyRow(ws, r, row, 0);
      if (!sameBits(row, 0, reference, r * width, width)) {
        return false;
      }
    }
    return true;
  }

  /** Shard 0's tiled gradient (from the pass in {@code ws}) against its plain gradient sum. */
  private boolean tilesMatch(Model model) {
    int n = model.parameterCount();
    float[] tiled = new float[n];
    int[] bounds = stacking.tileBounds();
    for (int t = 0; t + 1 < bounds.length; t++) {
      stacking.tileGradient(batch, ws, 0, rows, bounds[t], bounds[t + 1], tiled, bounds[t]);
    }
    float[] plain = new float[n];
    double plainLoss = model.gradientSum(params, batch, plain, model.newWorkspace(rows));
    return Double.doubleToRawLongBits(plainLoss) == Double.doubleToRawLongBits(losses[0])
        && sameBits(tiled, 0, plain, 0, n);
  }

  static boolean sameBits(float[] a, int aOff, float[] b, int bOff, int n) {
    for (int i = 0; i < n; i++) {
      if (Float.floatToRawIntBits(a[aOff + i]) != Float.floatToRawIntBits(b[bOff + i])) {
        return false;
      }
    }
    return true;
  }
}
