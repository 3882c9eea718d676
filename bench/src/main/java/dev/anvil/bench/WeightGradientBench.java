package dev.anvil.bench;

import dev.anvil.core.data.Dataset;
import dev.anvil.core.model.Batch;
import dev.anvil.core.model.Model;
import dev.anvil.core.model.Stacking;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.GradientBuffers;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.ShardComputer;
import dev.anvil.core.train.ShardSampler;
import dev.anvil.core.train.StackReport;
import dev.anvil.core.train.TreeNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.results.RunResult;

/**
 * Milliseconds for one worker, single-threaded, to build the gradient sum of the reduction-tree
 * node over logical shards {@code [0, shards)} (j = 8 shards of 16 rows), stacked as {@link
 * ShardComputer} does when {@code StackGuard} allows it, against shard by shard:
 *
 * <ul>
 *   <li>{@code nodeStacked}: {@link ShardComputer#computeAll} on the node, the real path: the
 *       shards' rows go through forward and backward-data as one batch (each product in calls as
 *       tall as the guard allowed), then the weight gradient is built tile by tile;
 *   <li>{@code nodePerShard}: the same node shard by shard, as {@code ShardComputer} does without
 *       stacking: {@link ShardComputer#shard} per shard, then {@link ReductionTree#reduce}'s
 *       whole-vector adds;
 *   <li>{@code wgradTiled}: only the gradient part of {@code nodeStacked}, on a stacked pass run
 *       once in setup: per parameter tile ({@link Stacking#tileBounds}, bands of whole
 *       weight-matrix rows of about 16 Ki floats, or a bias), each shard's tile by {@link
 *       Stacking#tileGradient} (C = A^T B with k = 16), added in the tree's order while in cache as
 *       {@code ShardComputer} does;
 *   <li>{@code wgradPerShard}: the same gradients from the same pass, built as before stacking: per
 *       shard a parameter-sized array filled by one whole-layer C = A^T B (k = 16) and bias column
 *       sums per layer (the same {@code tileGradient} call over a whole layer), then the tree's
 *       whole-vector adds ({@link GradientSum#plus}, 7 for 8 shards).
 * </ul>
 *
 * Setup fails unless all four give the same gradients, so each pair times the same work. The job:
 * synthetic data (784 dense Gaussian features, 10 classes), batch 256 over 16 logical shards, round
 * 0, the job's initial parameters, kernel java or native; the large MLP 784-1024-1024-10 (a 7.45 MB
 * gradient) and the small 784-128-10. The inputs of the second and third layers are ReLU outputs,
 * about half zeros, which the java kernel skips. The java kernel takes a few hundred milliseconds
 * per large node (10 to 15 times native). Setup prints the job's {@code StackGuard} summary: the
 * heights each product runs at. Run with {@code OPENBLAS_NUM_THREADS=1}; {@link #main} runs JMH and
 * then prints the table with the speed-ups.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WeightGradientBench {
  private static final String JOB =
      """
      job {
        name = "weight-gradient-bench", seed = 7
        model { type = mlp, layers = [%s], activation = relu }
        data { type = synthetic, samples = 4096, features = 784, classes = 10, seed = 11 }
        optimizer { type = sgd, learning-rate = 0.1 }
        batch-size = 256, logical-shards = 16, rounds = 1, kernel = %s
      }
      """;

  /** The MLP's layer sizes. */
  @Param({"784-1024-1024-10", "784-128-10"})
  public String layers;

  @Param({"native", "java"})
  public String kernel;

  /**
   * Shards, from shard 0: one tree node when a power of two up to 16, else the nodes of their
   * cover, timed together.
   */
  @Param({"8"})
  public int shards;

  private float[] params;
  private ReductionTree tree;
  private List<TreeNode> nodes;
  private GradientBuffers buffers;
  private ShardComputer computer;
  private Stacking stacking;
  private int rows;
  private int[] tiles;
  private int[] layerBounds;
  private Batch stack;
  private Model.Workspace space;
  private float[][] tileScratch;

  @Setup
  public void setUp() {
    int[] sizes = Arrays.stream(layers.split("-")).mapToInt(Integer::parseInt).toArray();
    PreparedJob job =
        PreparedJob.prepare(
            JobSpecParser.parse(
                String.format(Locale.ROOT, JOB, layers.replace('-', ','), kernel), "bench", null),
            "bench");
    StackReport report = job.stackReport();
    if (report.problem() != null) {
      throw new IllegalStateException("no stacked path to measure: " + report.summary());
    }
    System.out.println(System.lineSeparator() + "StackGuard: " + report.summary());
    params = job.initialState().params();
    tree = job.tree();
    nodes = tree.cover(0, shards);
    buffers = new GradientBuffers(params.length, 2 * (tree.root().level() + 2));
    computer = new ShardComputer(job, buffers);
    stacking = job.model().stacking();
    rows = job.sampler().perShardBatch();
    tiles = stacking.tileBounds();
    layerBounds = layerBounds(sizes);
    stackedPass(job, report);
    tileScratch = new float[tree.root().level() + 2][widest(tiles)];
    sameGradients("nodeStacked", this::stackedNodes, "nodePerShard", this::perShardNodes);
    sameGradients("wgradTiled", this::tiledGradients, "nodeStacked", this::stackedNodes);
    sameGradients("wgradTiled", this::tiledGradients, "wgradPerShard", this::wholeLayerGradients);
  }

  /** Round 0's rows of shards {@code [0, shards)}, one after another, through a stacked pass. */
  private void stackedPass(PreparedJob job, StackReport report) {
    Dataset train = job.data().train();
    ShardSampler sampler = job.sampler();
    stack = new Batch(shards * rows, train.features(), train.outputs());
    for (int s = 0; s < shards; s++) {
      int[] order = sampler.epochOrder(s, sampler.epochOf(0));
      stack.fillAt(s * rows, train, order, sampler.offsetOf(0), rows);
    }
    space = stacking.newWorkspace(shards * rows);
    int[] chunks = report.products().stream().mapToInt(StackReport.ProductCheck::height).toArray();
    stacking.forwardBackward(params, stack, rows, chunks, new double[shards], space);
  }

  @Benchmark
  public void nodeStacked(Blackhole out) {
    consume(stackedNodes(), out);
  }

  @Benchmark
  public void nodePerShard(Blackhole out) {
    consume(perShardNodes(), out);
  }

  @Benchmark
  public void wgradTiled(Blackhole out) {
    consume(tiledGradients(), out);
  }

  @Benchmark
  public void wgradPerShard(Blackhole out) {
    consume(wholeLayerGradients(), out);
  }

  private List<GradientSum> stackedNodes() {
    return computer.computeAll(params, 0, nodes);
  }

  private List<GradientSum> perShardNodes() {
    return reduceNodes(shard -> computer.shard(params, 0, shard));
  }

  private List<GradientSum> tiledGradients() {
    List<GradientSum> sums = new ArrayList<>(nodes.size());
    for (TreeNode node : nodes) {
      float[] grad = buffers.acquire();
      for (int t = 0; t + 1 < tiles.length; t++) {
        sumTile(node, tiles[t], tiles[t + 1], 0);
        System.arraycopy(tileScratch[0], 0, grad, tiles[t], tiles[t + 1] - tiles[t]);
      }
      sums.add(new GradientSum(grad, 0, (long) leaves(node) * rows));
    }
    return sums;
  }

  private List<GradientSum> wholeLayerGradients() {
    return reduceNodes(this::wholeLayers);
  }

  /** Each node's sum from per-shard sums, added whole in the tree's order. */
  private List<GradientSum> reduceNodes(IntFunction<GradientSum> shardSum) {
    List<GradientSum> sums = new ArrayList<>(nodes.size());
    for (TreeNode node : nodes) {
      sums.add(
          tree.reduce(
              node, n -> n.level() == 0 ? shardSum.apply(n.index()) : null, buffers::release));
    }
    return sums;
  }

  private int leaves(TreeNode node) {
    return node.to(tree.leaves()) - node.from();
  }

  private void consume(List<GradientSum> sums, Blackhole out) {
    out.consume(sums);
    release(sums);
  }

  private void release(List<GradientSum> sums) {
    for (GradientSum sum : sums) {
      buffers.release(sum.grad());
    }
  }

  /** Fails unless two ways give the same gradients: they then time the same work. */
  private void sameGradients(
      String aName, Supplier<List<GradientSum>> a, String bName, Supplier<List<GradientSum>> b) {
    List<GradientSum> x = a.get();
    List<GradientSum> y = b.get();
    for (int i = 0; i < x.size(); i++) {
      if (!Arrays.equals(x.get(i).grad(), y.get(i).grad())) {
        throw new IllegalStateException(
            aName + " and " + bName + " give different gradients for " + nodes.get(i));
      }
    }
    release(x);
    release(y);
  }

  /** Shard {@code shard}'s weight gradient in its own array, one whole layer at a time. */
  private GradientSum wholeLayers(int shard) {
    float[] grad = buffers.acquire();
    int[] b = layerBounds;
    for (int t = 0; t + 1 < b.length; t++) {
      stacking.tileGradient(stack, space, shard, rows, b[t], b[t + 1], grad, b[t]);
    }
    return new GradientSum(grad, 0, rows);
  }

  /**
   * {@code node}'s sum of the tile {@code [from, to)} into {@code tileScratch[depth]}: left child
   * there, the right child's one level deeper, added into it while both are in cache (as
   * ShardComputer's sumTile).
   */
  private void sumTile(TreeNode node, int from, int to, int depth) {
    float[] dst = tileScratch[depth];
    if (node.level() == 0) {
      stacking.tileGradient(stack, space, node.index(), rows, from, to, dst, 0);
      return;
    }
    sumTile(node.left(), from, to, depth);
    if (node.right().from() >= tree.leaves()) {
      return;
    }
    sumTile(node.right(), from, to, depth + 1);
    float[] tmp = tileScratch[depth + 1];
    for (int i = 0; i < to - from; i++) {
      dst[i] += tmp[i];
    }
  }

  /** Runs JMH with the given options (this class's benchmarks by default), then the table. */
  public static void main(String[] args) throws Exception {
    Map<String, Map<String, Double>> byConfig = new LinkedHashMap<>();
    for (RunResult r : JmhRuns.run(WeightGradientBench.class, args)) {
      BenchmarkParams p = r.getParams();
      String method = p.getBenchmark().substring(p.getBenchmark().lastIndexOf('.') + 1);
      byConfig
          .computeIfAbsent(
              p.getParam("layers") + " " + p.getParam("kernel") + " j=" + p.getParam("shards"),
              c -> new HashMap<>())
          .put(method, r.getPrimaryResult().getScore());
    }
    System.out.println();
    String row = "%-28s %11s %11s %8s %11s %11s %8s%n";
    System.out.printf(
        Locale.ROOT,
        row,
        "ms per node",
        "per-shard",
        "stacked",
        "speed-up",
        "wgrad-per",
        "wgrad-tile",
        "speed-up");
    byConfig.forEach(
        (config, ms) -> {
          Double perShard = ms.get("nodePerShard");
          Double stacked = ms.get("nodeStacked");
          Double wholeLayers = ms.get("wgradPerShard");
          Double tiled = ms.get("wgradTiled");
          System.out.printf(
              Locale.ROOT,
              row,
              config,
              cell(perShard),
              cell(stacked),
              ratio(perShard, stacked),
              cell(wholeLayers),
              cell(tiled),
              ratio(wholeLayers, tiled));
        });
  }

  private static String cell(Double ms) {
    return ms == null ? "-" : String.format(Locale.ROOT, "%.2f", ms);
  }

  private static String ratio(Double before, Double after) {
    return before == null || after == null
        ? "-"
        : String.format(Locale.ROOT, "%.2fx", before / after);
  }

  /** Where each layer's weights and bias begin in the parameters, then the parameter count. */
  private static int[] layerBounds(int[] sizes) {
    int[] bounds = new int[2 * (sizes.length - 1) + 1];
    int offset = 0;
    for (int l = 0; l + 1 < sizes.length; l++) {
      bounds[2 * l] = offset;
      offset += sizes[l] * sizes[l + 1];
      bounds[2 * l + 1] = offset;
      offset += sizes[l + 1];
    }
    bounds[bounds.length - 1] = offset;
    return bounds;
  }

  private static int widest(int[] bounds) {
    int widest = 0;
    for (int t = 0; t + 1 < bounds.length; t++) {
      widest = Math.max(widest, bounds[t + 1] - bounds[t]);
    }
    return widest;
  }
}
