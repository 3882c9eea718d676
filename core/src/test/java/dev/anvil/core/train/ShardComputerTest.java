package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.spec.JobSpecParser;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The stacked path gives the bits of shard-by-shard passes for every way a job's shards can be
 * handed to workers, and {@link StackGuard} catches a path that does not.
 */
class ShardComputerTest {

  static PreparedJob job(String model, String kernel, int shards, int batch) {
    return PreparedJob.prepare(
        JobSpecParser.parse(
            """
            job {
              name = "stacking"
              seed = 11
              model { %s }
              data { type = synthetic, samples = 3000, features = 24, classes = 5, seed = 2 }
              optimizer { type = sgd, learning-rate = 0.1 }
              batch-size = %d
              logical-shards = %d
              rounds = 5
              kernel = %s
            }
            """
                .formatted(model, batch, shards, kernel),
            "test",
            null),
        "test");
  }

  /** Node sums the old way: every shard alone, added whole in the tree. */
  static GradientSum shardByShard(ShardComputer c, PreparedJob job, float[] p, long r, TreeNode n) {
    return job.tree().reduce(n, x -> x.level() == 0 ? c.shard(p, r, x.index()) : null, g -> {});
  }

  static void assertSameBits(GradientSum expected, GradientSum actual, String what) {
    assertEquals(expected.samples(), actual.samples(), what);
    assertEquals(
        Double.doubleToRawLongBits(expected.lossSum()),
        Double.doubleToRawLongBits(actual.lossSum()),
        what + ": loss sum");
    assertTrue(
        StackGuard.sameBits(expected.grad(), 0, actual.grad(), 0, expected.grad().length),
        what + ": gradient bits");
  }

  /** Random parameters (not the initial ones) and rounds in two epochs, every worker count. */
  static void everyPlanMatches(PreparedJob job) {
    everyPlanMatches(job, new long[] {0, 3, job.roundsPerEpoch() + 1}, 1, job.tree().leaves());
  }

  /** As above for worker counts {@code [fewest, most]} and the given rounds. */
  static void everyPlanMatches(PreparedJob job, long[] rounds, int fewest, int most) {
    float[] params = job.initialState().params();
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < params.length; i++) {
      params[i] += (float) (random.nextDouble() - 0.5) * 0.2f;
    }
    ShardComputer reference = new ShardComputer(job, new GradientBuffers(params.length, 0));
    ShardComputer stacked = new ShardComputer(job, new GradientBuffers(params.length, 4));
    int shards = job.tree().leaves();
    for (long round : rounds) {
      for (int workers = fewest; workers <= most; workers++) {
        for (List<TreeNode> nodes : BlockPlan.balanced(job.tree(), workers)) {
          List<GradientSum> sums = stacked.computeAll(params, round, nodes);
          for (int i = 0; i < nodes.size(); i++) {
            assertSameBits(
                shardByShard(reference, job, params, round, nodes.get(i)),
                sums.get(i),
                "round " + round + ", " + workers + " workers, node " + nodes.get(i));
          }
        }
      }
      // a worker handed a lost worker's nodes as well: nodes out of tree order
      List<TreeNode> odd = job.tree().cover(shards / 2, shards);
      List<TreeNode> mixed =
          IntStream.range(0, odd.size()).mapToObj(i -> odd.get(odd.size() - 1 - i)).toList();
      List<GradientSum> sums = stacked.computeAll(params, round, mixed);
      for (int i = 0; i < mixed.size(); i++) {
        assertSameBits(
            shardByShard(reference, job, params, round, mixed.get(i)), sums.get(i), "mixed");
      }
    }
  }

  @Test
  void everyWorkerCountGetsTheBitsOfShardByShardPasses() {
    StackReport report = everyModelKindMatches("java");
    // by construction: the java kernel computes every row alone
    assertTrue(
        report.products().stream().allMatch(c -> c.height() == 8 && c.differsAt() == 0),
        report.summary());
  }

  /**
   * OpenBLAS picks another micro-kernel by size for products this small, so some products run lower
   * than 8 shards a call here; the bits are those of shard-by-shard passes regardless.
   */
  @Test
  @Tag("native")
  void everyWorkerCountGetsTheBitsOfShardByShardPassesWithNativeBlas() {
    assertTrue(Kernels.probeNative().available(), Kernels.probeNative()::problem);
    everyModelKindMatches("native");
  }

  /** Every plan of an MLP, a softmax and a linear model; returns the MLP's report. */
  private static StackReport everyModelKindMatches(String kernel) {
    PreparedJob mlp = job("type = mlp, layers = [24, 40, 33, 5]", kernel, 8, 96);
    everyPlanMatches(mlp);
    StackReport report = mlp.stackReport();
    assertNull(report.problem(), report.summary());
    assertEquals(8, report.maxHeight());
    assertEquals(
        List.of(
            "forward 24x40", "forward 40x33", "forward 33x5", "backward 5x33", "backward 33x40"),
        report.products().stream().map(StackReport.ProductCheck::product).toList());
    everyPlanMatches(job("type = softmax", kernel, 6, 60));
    everyPlanMatches(job("type = linear", kernel, 5, 40));
    return report;
  }

  @Test
  void nodesTallerThanOnePassAreSplitAndAddedInTheTree() {
    // 32 shards of 16 rows: a pass holds 16 shards, so the root is computed as two passes
    PreparedJob tall = job("type = mlp, layers = [24, 16, 5]", "java", 32, 512);
    assertEquals(16, tall.stackReport().maxHeight());
    everyPlanMatches(tall);
  }

  @Test
  void aModelOverOneMebibyteIsTiledInBandsOfRows() {
    // 266,485 parameters: the first layer's gradient comes in bands of 4 rows (16,384 floats)
    PreparedJob wide = job("type = mlp, layers = [24, 4096, 40, 5]", "java", 8, 96);
    int[] bounds = wide.model().stacking().tileBounds();
    assertEquals(16384, bounds[1] - bounds[0]);
    assertEquals(6 + 11 + 3 + 1, bounds.length - 1); // bands and biases of the three layers
    everyPlanMatches(wide, new long[] {0, 7}, 1, 8);
  }

  @Test
  void aHeightWhoseBitsDifferRunsShardByShard() {
    PreparedJob job =
        job(
            "type = class, class = \"dev.anvil.core.model.SkewedStackModel$AtHeight5\"",
            "java",
            8,
            96);
    StackReport report = job.stackReport();
    assertEquals(new StackReport.ProductCheck("forward 24x8", 4, 5), report.products().get(0));
    assertEquals(
        "stacked up to 8 shards of 12 rows; every product checked bitwise against per-shard"
            + " calls on round 0 at heights 1..8; forward 24x8 differs at 5, runs 4 shards a call",
        report.summary());
    everyPlanMatches(job);
  }

  @Test
  void tilesWhoseBitsDifferTurnStackingOff() {
    PreparedJob job =
        job(
            "type = class, class = \"dev.anvil.core.model.SkewedStackModel$InTiles\"",
            "java",
            8,
            96);
    StackReport report = job.stackReport();
    assertNotNull(report.problem());
    assertEquals(
        "shard by shard: tiled weight gradients differ from whole-matrix ones with this kernel",
        report.summary());
    everyPlanMatches(job);
  }

  @Test
  void aModelWithoutAStackedPathRunsShardByShard() {
    PreparedJob job =
        job("type = class, class = \"dev.anvil.core.model.UserModel\"", "java", 4, 32);
    assertTrue(job.stackReport().summary().startsWith("shard by shard: the model"));
    everyPlanMatches(job);
  }

  @Test
  void theCanaryCoversTheStackedPath() {
    PreparedJob a = job("type = mlp, layers = [24, 40, 5]", "java", 8, 96);
    PreparedJob b = job("type = mlp, layers = [24, 40, 5]", "java", 8, 96);
    assertEquals(Canary.of(a), Canary.of(b));
    assertNull(a.stackReport().problem());
    PreparedJob skewed =
        job(
            "type = class, class = \"dev.anvil.core.model.SkewedStackModel$AtHeight5\"",
            "java",
            8,
            96);
    assertEquals(64, Canary.of(skewed).length());
  }
}
