package dev.anvil.bench;

import dev.anvil.core.kernel.JavaKernel;
import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.spec.KernelChoice;
import java.util.Collection;
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
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Single-threaded throughput (calls per second) of {@link Kernel#gemm} for the products one 16-row
 * logical shard computes, for the java and native kernels:
 *
 * <ul>
 *   <li>{@code fwd-16x784x128}: forward of the 784-128-10 MLP's first layer, C = A B with m = 16, n
 *       = 128, k = 784;
 *   <li>{@code wgrad-784x128x16}: its weight gradient, C = A^T B with m = 784, n = 128, k = 16 (A
 *       is the 16x784 input, B the 16x128 delta);
 *   <li>{@code fwd-16x1024x1024}: forward of the 784-1024-1024-10 MLP's middle layer.
 * </ul>
 *
 * GFLOP/s = calls/s * 2mnk / 1e9. The inputs are dense (uniform in [-1, 1), no zeros); note that
 * {@link JavaKernel} skips zero A-entries, so on real images and ReLU outputs it does less work
 * than the nominal 2mnk. Run with {@code OPENBLAS_NUM_THREADS=1} (the forked JVM inherits it).
 * {@link #main} runs JMH and then prints the GFLOP/s table.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class GemmBench {
  @Param({"fwd-16x784x128", "wgrad-784x128x16", "fwd-16x1024x1024"})
  public String shape;

  @Param({"java", "native"})
  public String kernel;

  private Kernel gemm;
  private boolean transA;
  private int m;
  private int n;
  private int k;
  private float[] a;
  private float[] b;
  private float[] c;

  @Setup
  public void setUp() {
    gemm = "java".equals(kernel) ? JavaKernel.INSTANCE : Kernels.select(KernelChoice.NATIVE);
    int[] mnk = dims(shape);
    m = mnk[0];
    n = mnk[1];
    k = mnk[2];
    transA = shape.startsWith("wgrad");
    SplittableRandom random = new SplittableRandom(42);
    a = fill(new float[m * k], random);
    b = fill(new float[k * n], random);
    c = new float[m * n];
  }

  @Benchmark
  public float[] gemm() {
    gemm.gemm(transA, false, m, n, k, a, 0, transA ? m : k, b, 0, n, false, c, 0, n);
    return c;
  }

  /** Runs JMH with the given options (GemmBench by default), then prints GFLOP/s. */
  public static void main(String[] args) throws Exception {
    String[] options = args.length == 0 ? new String[] {GemmBench.class.getSimpleName()} : args;
    Collection<RunResult> results = new Runner(new CommandLineOptions(options)).run();
    System.out.println();
    System.out.printf(
        Locale.ROOT, "%-18s %-7s %14s %10s%n", "shape", "kernel", "calls/s", "GFLOP/s");
    for (RunResult r : results) {
      String s = r.getParams().getParam("shape");
      double calls = r.getPrimaryResult().getScore();
      System.out.printf(
          Locale.ROOT,
          "%-18s %-7s %,14.0f %10.2f%n",
          s,
          r.getParams().getParam("kernel"),
          calls,
          calls * flops(s) / 1e9);
    }
  }

  /** Floating-point operations of one call: 2mnk. */
  static double flops(String shape) {
    int[] mnk = dims(shape);
    return 2.0 * mnk[0] * mnk[1] * mnk[2];
  }

  private static int[] dims(String shape) {
    String[] parts = shape.substring(shape.indexOf('-') + 1).split("x");
    return new int[] {
      Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2])
    };
  }

  private static float[] fill(float[] x, SplittableRandom random) {
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return x;
  }
}
