package dev.anvil.bench;

import dev.anvil.core.io.Directories;
import dev.anvil.core.kernel.Kernels;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Function;

/** What every benchmark main prints and parses the same way. */
final class Console {
  private Console() {}

  static void say(String format, Object... args) {
    System.out.println(args.length == 0 ? format : String.format(Locale.ROOT, format, args));
  }

  /**
   * Prints OPENBLAS_NUM_THREADS and warns unless it is 1: each logical shard is computed on one
   * thread, so OpenBLAS threads would only compete with {@code competitors}.
   */
  static void checkBlasThreads(String script, String competitors) {
    String blasThreads = System.getenv("OPENBLAS_NUM_THREADS");
    say("OPENBLAS_NUM_THREADS=%s", blasThreads == null ? "(unset)" : blasThreads);
    if (!"1".equals(blasThreads)) {
      say(
          "WARNING: start the JVM with OPENBLAS_NUM_THREADS=1 (%s does): OpenBLAS threads"
              + " compete with the %s",
          script, competitors);
    }
  }

  /** Samples/s with thousands separators ("n/a" for NaN). */
  static String rate(double r) {
    return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%,.0f", r);
  }

  static String rates(java.util.List<Double> rs) {
    java.util.List<String> out = new java.util.ArrayList<>();
    rs.forEach(r -> out.add(rate(r)));
    return "[" + String.join(" ", out) + "]";
  }

  /** Each value in {@code format}, space-separated in brackets. */
  static String list(java.util.List<Double> values, String format) {
    return "["
        + String.join(" ", values.stream().map(v -> String.format(Locale.ROOT, format, v)).toList())
        + "]";
  }

  /**
   * A main's options read by {@code parse}; when it throws IllegalArgumentException, prints its
   * message and {@code usage} to stderr and exits with status 2.
   */
  static <T> T options(String[] args, Function<String[], T> parse, String usage) {
    try {
      return parse.apply(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage() + "\n" + usage);
      System.exit(2);
      throw e;
    }
  }

  /** Exits with status 1 after saying why when native BLAS (kernel native) is missing. */
  static void requireNativeBlas() {
    Kernels.NativeProbe nativeBlas = Kernels.probeNative();
    if (!nativeBlas.available()) {
      say(
          "native BLAS missing: %s (install libopenblas0-pthread). Kernel native is required.",
          nativeBlas.problem());
      System.exit(1);
    }
  }

  /** The integer at {@code args[i]}, which must be at least {@code min}. */
  static int atLeast(String[] args, int i, int min) {
    int n;
    try {
      n = i < args.length ? Integer.parseInt(args[i]) : Integer.MIN_VALUE;
    } catch (NumberFormatException e) {
      n = Integer.MIN_VALUE;
    }
    if (n < min) {
      throw new IllegalArgumentException(args[i - 1] + " needs an integer >= " + min);
    }
    return n;
  }

  /** The system load average of the last minute. */
  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /** The first 12 characters of a hash ("n/a" for null). */
  static String shortHash(String h) {
    return h == null ? "n/a" : h.substring(0, Math.min(12, h.length()));
  }

  /** Deletes a temp folder and everything in it; says so when it cannot. */
  static void deleteTree(Path dir) {
    try {
      Directories.deleteTree(dir);
    } catch (IOException e) {
      say("(could not delete %s: %s)", dir, e.getMessage());
    }
  }
}
