package dev.anvil.core.spec;

/** The {@code job.checkpoint} section. */
public record CheckpointSpec(int everyRounds, Mode mode) {

  /** How rounds after the newest checkpoint are recovered. */
  public enum Mode {
    /** Recompute them (same bits by the determinism contract). */
    SNAPSHOT,
    /** Replay the optimizer over the journaled reduced gradients: no recomputation. */
    INCREMENTAL
  }
}
