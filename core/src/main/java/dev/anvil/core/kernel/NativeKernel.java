package dev.anvil.core.kernel;

import dev.ludovic.netlib.blas.BLAS;

/**
 * OpenBLAS (or whichever {@code libblas.so.3} the system provides) through netlib's JNI binding.
 * Deterministic for fixed shapes on identical hardware and library when OpenBLAS runs
 * single-threaded ({@code OPENBLAS_NUM_THREADS=1}, which {@code anvil} sets for every JVM).
 */
public final class NativeKernel implements Kernel {
  private final BLAS blas;

  NativeKernel(BLAS blas) {
    this.blas = blas;
  }

  @Override
  public String name() {
    return "native";
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
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
    blas.sgemm(
        transB ? "T" : "N",
        transA ? "T" : "N",
        n,
        m,
        k,
        1.0f,
        b,
        bOff,
        ldb,
        a,
        aOff,
        lda,
        accumulate ? 1.0f : 0.0f,
        c,
        cOff,
        ldc);
  }
}
