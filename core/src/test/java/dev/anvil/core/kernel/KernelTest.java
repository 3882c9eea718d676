package dev.anvil.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.random.SplitMix64;
import dev.anvil.core.spec.KernelChoice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class KernelTest {

  static float[] random(int n, long seed, boolean sparse) {
    SplitMix64 rng = new SplitMix64(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = sparse && rng.nextInt(3) == 0 ? 0f : (float) rng.nextGaussian();
    }
    return a;
  }

  /** op(A) op(B) in double, row-major. */
  static double[] reference(boolean ta, boolean tb, int m, int n, int k, float[] a, float[] b) {
    double[] c = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          float av = ta ? a[p * m + i] : a[i * k + p];
          float bv = tb ? b[j * k + p] : b[p * n + j];
          s += (double) av * bv;
        }
        c[i * n + j] = s;
      }
    }
    return c;
  }

  static void checkAgainstReference(Kernel kernel) {
    int m = 7;
    int n = 13;
    int k = 11;
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        float[] a = random(m * k, 1, true);
        float[] b = random(k * n, 2, false);
        float[] c = random(m * n, 3, false);
        float[] before = c.clone();
        kernel.gemm(ta, tb, m, n, k, a, 0, ta ? m : k, b, 0, tb ? k : n, false, c, 0, n);
        double[] expected = reference(ta, tb, m, n, k, a, b);
        for (int i = 0; i < c.length; i++) {
          assertEquals(expected[i], c[i], 1e-4, kernel.name() + " ta=" + ta + " tb=" + tb);
        }
        kernel.gemm(ta, tb, m, n, k, a, 0, ta ? m : k, b, 0, tb ? k : n, true, before, 0, n);
        for (int i = 0; i < c.length; i++) {
          assertEquals(expected[i] + random(m * n, 3, false)[i], before[i], 1e-4);
        }
      }
    }
  }

  @Test
  void javaKernelMatchesADoublePrecisionReference() {
    checkAgainstReference(JavaKernel.INSTANCE);
  }

  @Test
  void javaKernelRespectsOffsetsAndLeadingDimensions() {
    float[] a = {9, 1, 2, 9, 3, 4}; // 2x2 at offset 1 with lda 3: [[1,2],[3,4]]
    float[] b = {5, 6, 0, 7, 8, 0}; // 2x2 with ldb 3: [[5,6],[7,8]]
    float[] c = new float[5];
    JavaKernel.INSTANCE.gemm(false, false, 2, 2, 2, a, 1, 3, b, 0, 3, false, c, 1, 2);
    assertArrayEquals(new float[] {0, 19, 22, 43, 50}, c);
  }

  @Test
  void javaKernelGivesTheSameBitsOnEveryCall() {
    float[] a = random(16 * 300, 4, true);
    float[] b = random(300 * 64, 5, false);
    float[] c1 = new float[16 * 64];
    float[] c2 = new float[16 * 64];
    JavaKernel.INSTANCE.gemm(false, false, 16, 64, 300, a, 0, 300, b, 0, 64, false, c1, 0, 64);
    JavaKernel.INSTANCE.gemm(false, false, 16, 64, 300, a, 0, 300, b, 0, 64, false, c2, 0, 64);
    assertArrayEquals(c1, c2);
  }

  @Test
  void requiringNativeWithoutItFailsClearlyElseWorks() {
    Kernels.NativeProbe probe = Kernels.probeNative();
    if (probe.available()) {
      assertEquals("native", Kernels.select(KernelChoice.NATIVE).name());
      assertEquals("native", Kernels.select(KernelChoice.AUTO).name());
    } else {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> Kernels.select(KernelChoice.NATIVE));
      assertTrue(e.getMessage().contains("apt-get install libopenblas0-pthread"), e.getMessage());
      assertEquals("java", Kernels.select(KernelChoice.AUTO).name());
    }
    assertEquals("java", Kernels.select(KernelChoice.JAVA).name());
  }

  @Test
  @Tag("native")
  void nativeKernelIsPresentAndMatchesTheReference() {
    Kernels.NativeProbe probe = Kernels.probeNative();
    assertTrue(probe.available(), () -> "the full profile needs native BLAS: " + probe.problem());
    checkAgainstReference(probe.kernel());
  }
}
