package dev.anvil.core.kernel;

import dev.anvil.core.spec.KernelChoice;
import dev.ludovic.netlib.blas.NativeBLAS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the kernel a job asked for, and says why when native BLAS is not there. */
public final class Kernels {
  private static final Logger log = LoggerFactory.getLogger(Kernels.class);
  private static volatile NativeProbe probe;

  /** Held so the level set below is not lost when the logger is garbage-collected. */
  private static final java.util.logging.Logger NETLIB_LOG =
      java.util.logging.Logger.getLogger("dev.ludovic.netlib.blas");

  private Kernels() {}

  /** Whether native BLAS loaded, and if not, why. */
  public record NativeProbe(Kernel kernel, String problem) {
    public boolean available() {
      return kernel != null;
    }
  }

  public static NativeProbe probeNative() {
    NativeProbe p = probe;
    if (p == null) {
      synchronized (Kernels.class) {
        if (probe == null) {
          probe = load();
        }
        p = probe;
      }
    }
    return p;
  }

  private static NativeProbe load() {
    // netlib logs a warning for every implementation it cannot load (the incubator Vector API,
    // the native library); Anvil reports what matters itself.
    NETLIB_LOG.setLevel(java.util.logging.Level.SEVERE);
    try {
      NativeBLAS blas = NativeBLAS.getInstance();
      Kernel kernel = new NativeKernel(blas);
      float[] c = new float[1];
      kernel.gemm(
          false, false, 1, 1, 1, new float[] {2f}, 0, 1, new float[] {3f}, 0, 1, false, c, 0, 1);
      if (c[0] != 6f) {
        return new NativeProbe(null, "native BLAS computed 2*3 = " + c[0]);
      }
      String threads = System.getenv("OPENBLAS_NUM_THREADS");
      if (!"1".equals(threads)) {
        log.warn(
            "OPENBLAS_NUM_THREADS is {}, not 1: OpenBLAS may split small products across"
                + " threads; set it to 1 (the anvil launcher does) for the fastest, reproducible"
                + " runs",
            threads == null ? "unset" : threads);
      }
      return new NativeProbe(kernel, null);
    } catch (Throwable e) {
      return new NativeProbe(
          null,
          "native BLAS not found ("
              + e.getMessage()
              + "); install it with: apt-get install libopenblas0-pthread");
    }
  }

  /**
   * The kernel for {@code choice}; fails with a clear message when native is required but absent.
   */
  public static Kernel select(KernelChoice choice) {
    switch (choice) {
      case JAVA:
        return JavaKernel.INSTANCE;
      case NATIVE:
        {
          NativeProbe p = probeNative();
          if (!p.available()) {
            throw new IllegalStateException(
                "job.kernel = native, but " + p.problem() + "; or set job.kernel = auto | java");
          }
          return p.kernel();
        }
      default:
        {
          NativeProbe p = probeNative();
          if (!p.available()) {
            log.info("kernel = auto: using java ({})", p.problem());
            return JavaKernel.INSTANCE;
          }
          return p.kernel();
        }
    }
  }
}
