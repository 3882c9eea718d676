package dev.anvil.core.spec;

/** Which matrix kernel computes gradients; part of what the final hash depends on. */
public enum KernelChoice {
  /** Native when OpenBLAS is present, otherwise java. */
  AUTO,
  /** OpenBLAS through netlib: fast; the same bits on identical hardware and library. */
  NATIVE,
  /** Plain Java loops: the same bits on every JVM and CPU. */
  JAVA
}
