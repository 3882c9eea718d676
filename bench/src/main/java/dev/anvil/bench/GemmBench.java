package dev.anvil.bench;

import dev.anvil.core.kernel.JavaKernel;
import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.spec.KernelChoice;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.results.RunResult;

/**
 * Single-threaded throughput (calls per second) of {@link Kernel#gemm} for the products of 16-row
 * logical shards, alone and stacked, for the java and native kernels. A shape names a product by
 * its layer, {@code in x out}, as the models do:
 *
 * <ul>
 *   <li>{@code fwd-MxINxOUT}: a layer's forward for M stacked rows, C = A B with m = M, k = IN, n =
 *       OUT; M = 16 is one shard, 64, 128 and 256 are 4, 8 and 16 shards stacked. Layers: the
 *       784-128-10 MLP's first (784x128) and the 784-1024-1024-10 MLP's three (784x1024, 1024x1024,
 *       1024x10);
 *   <li>{@code wgrad-784x128x16}: one shard's weight gradient of the 784x128 layer, C = A^T B with
 *       m = 784, n = 128, k = 16 (A is the 16x784 input, B the 16x128 delta).
 * </ul>
 *
 * GFLOP/s = calls/s * 2mnk / 1e9; µs/shard is a call's time divided by the shards whose rows it
 * covers, so stacked heights compare directly with M = 16. The inputs are dense (uniform in [-1,
 * 1), no zeros); note that {@link JavaKernel} skips zero A-entries, so on real images and ReLU
 * outputs it does less work than the nominal 2mnk. Run with {@code OPENBLAS_NUM_THREADS=1} (the
 * forked JVM inherits it). {@link #main} runs JMH and then prints the table.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GemmBench {
  /** Rows of one logical shard. */
  private static final int SHARD_ROWS = 16;

  @Param({
    "fwd-16x784x128",
    "fwd-64x784x128",
    "fwd-128x784x128",
    "fwd-256x784x128",
    "wgrad-784x128x16",
    "fwd-16x784x1024",
    "fwd-64x784x1024",
    "fwd-128x784x1024",
    "fwd-256x784x1024",
    "fwd-16x1024x1024",
    "fwd-64x1024x1024",
    "fwd-128x1024x1024",
    "fwd-256x1024x1024",
    "fwd-16x1024x10",
    "fwd-64x1024x10",
    "fwd-128x1024x10",
    "fwd-256x1024x10"
  })
  public String shape;

  @Param({"java", "native"})
  public String kernel;

  private Kernel gemm;
  private Shape dims;
  private float[] a;
  private float[] b;
  private float[] c;

  /** A product C (m x n) = op(A) B with inner dimension k; op(A) = A^T when {@code transA}. */
  record Shape(boolean transA, int m, int n, int k) {
    /** Parses {@code fwd-MxINxOUT} or {@code wgrad-INxOUTxROWS}. */
    static Shape parse(String name) {
      String[] parts = name.substring(name.indexOf('-') + 1).split("x");
      int[] d = new int[3];
      for (int i = 0; i < 3; i++) {
        d[i] = Integer.parseInt(parts[i]);
      }
      return name.startsWith("wgrad")
          ? new Shape(true, d[0], d[1], d[2])
          : new Shape(false, d[0], d[2], d[1]);
    }

    /** Floating-point operations of one call: 2mnk. */
    double flops() {
      return 2.0 * m * n * k;
    }

    /** How many shards' rows one call covers: its rows (forward) or its inner dimension. */
    double shards() {
      return (double) (transA ? k : m) / SHARD_ROWS;
    }
  }

  @Setup
  public void setUp() {
    gemm = "java".equals(kernel) ? JavaKernel.INSTANCE : Kernels.select(KernelChoice.NATIVE);
    dims = Shape.parse(shape);
    SplittableRandom random = new SplittableRandom(42);
    a = fill(new float[dims.m() * dims.k()], random);
    b = fill(new float[dims.k() * dims.n()], random);
    c = new float[dims.m() * dims.n()];
  }

  @Benchmark
  public float[] gemm() {
    Shape s = dims;
    int lda = s.transA() ? s.m() : s.k();
    gemm.gemm(s.transA(), false, s.m(), s.n(), s.k(), a, 0, lda, b, 0, s.n(), false, c, 0, s.n());
    return c;
  }

  /** Runs JMH with the given options (GemmBench's benchmarks by default), then prints the table. */
  public static void main(String[] args) throws Exception {
    Iterable<RunResult> results = JmhRuns.run(GemmBench.class, args);
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "%-18s %-7s %14s %10s %10s%n",
        "shape",
        "kernel",
        "calls/s",
        "GFLOP/s",
        "µs/shard");
    for (RunResult r : results) {
      String name = r.getParams().getParam("shape");
      Shape s = Shape.parse(name);
      double calls = r.getPrimaryResult().getScore();
      System.out.printf(
          Locale.ROOT,
          "%-18s %-7s %,14.0f %10.2f %10.1f%n",
          name,
          r.getParams().getParam("kernel"),
          calls,
          calls * s.flops() / 1e9,
          1e6 / calls / s.shards());
    }
  }

  private static float[] fill(float[] x, SplittableRandom random) {
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return x;
  }
}
