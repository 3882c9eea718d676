package dev.anvil.core.kernel;

/**
 * Dense matrix product on row-major {@code float} matrices: the only operation whose speed matters
 * in training. Implementations must be deterministic: the same inputs and shapes give the same bits
 * on every call, whichever thread calls.
 */
public interface Kernel {

  /** "native" or "java": recorded in every result because the hash depends on it. */
  String name();

  /**
   * {@code C = op(A) * op(B)} (or {@code C += ...} when {@code accumulate}), where op transposes
   * when asked. C is m x n, op(A) is m x k, op(B) is k x n; every matrix is row-major with the
   * given leading dimension (its row length in memory).
   */
  void gemm(
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
      int ldc);
}
