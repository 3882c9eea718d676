package dev.anvil.core.kernel;

/**
 * Plain loops. Java float arithmetic is strict (no fused multiply-add, no extended precision), so
 * this kernel gives the same bits on every JVM and CPU. Each element of C sums its k products in
 * ascending k, starting from 0 (or from C when accumulating); a product whose A-factor is exactly 0
 * is skipped, which is part of this kernel's definition (it makes sparse inputs such as images and
 * ReLU outputs cheap).
 */
public final class JavaKernel implements Kernel {
  public static final JavaKernel INSTANCE = new JavaKernel();

  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

  private JavaKernel() {}

  @Override
  public String name() {
    return "java";
  }

  @Override
  public void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      boolean accumulate,
      float[] c,
      int cOff,
      int ldc) {
    if (transB) {
      float[] bt = transpose(b, bOff, ldb, n, k);
      b = bt;
      bOff = 0;
      ldb = n;
    }
    if (!accumulate) {
      for (int i = 0; i < m; i++) {
        java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
      }
    }
    if (transA) {
      gemmTn(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    } else {
      gemmNn(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }
  }

  private static void gemmNn(
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float[] c,
      int cOff,
      int ldc) {
    for (int i = 0; i < m; i++) {
      int ci = cOff + i * ldc;
      int ai = aOff + i * lda;
      for (int p = 0; p < k; p++) {
        float aip = a[ai + p];
        if (aip == 0f) {
          continue;
        }
        int bp = bOff + p * ldb;
        for (int j = 0; j < n; j++) {
          c[ci + j] += aip * b[bp + j];
        }
      }
    }
  }

  /** op(A) = A^T where A is stored k x m. */
  private static void gemmTn(
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float[] c,
      int cOff,
      int ldc) {
    for (int p = 0; p < k; p++) {
      int ap = aOff + p * lda;
      int bp = bOff + p * ldb;
      for (int i = 0; i < m; i++) {
        float api = a[ap + i];
        if (api == 0f) {
          continue;
        }
        int ci = cOff + i * ldc;
        for (int j = 0; j < n; j++) {
          c[ci + j] += api * b[bp + j];
        }
      }
    }
  }

  /** B stored n x k (row-major, leading dimension ldb) into a k x n scratch matrix. */
  private static float[] transpose(float[] b, int bOff, int ldb, int n, int k) {
    float[] t = SCRATCH.get();
    if (t.length < n * k) {
      t = new float[n * k];
      SCRATCH.set(t);
    }
    for (int j = 0; j < n; j++) {
      int row = bOff + j * ldb;
      for (int p = 0; p < k; p++) {
        t[p * n + j] = b[row + p];
      }
    }
    return t;
  }
}
