package dev.anvil.bench;

import java.util.List;

/**
 * A benchmark job's checkpoint setting: every {@code every} rounds (0: none), snapshot or
 * incremental. A job of N rounds checkpoints at every multiple of {@code every} below N.
 */
record CheckpointMode(int every, boolean incremental) {
  static final CheckpointMode NONE = new CheckpointMode(0, false);

  /** The measured modes, in the order each repeat runs them. */
  static final List<CheckpointMode> MEASURED =
      List.of(
          NONE,
          new CheckpointMode(50, false),
          new CheckpointMode(10, false),
          new CheckpointMode(50, true));

  /** The modes of the untimed warm-up jobs. */
  static final List<CheckpointMode> WARM_UP =
      List.of(new CheckpointMode(10, false), new CheckpointMode(10, true));

  boolean checkpoints() {
    return every != 0;
  }

  /** The round of the last checkpoint of a job of {@code rounds} rounds; 0 when it has none. */
  long lastCheckpoint(int rounds) {
    return every == 0 ? 0 : (long) ((rounds - 1) / every) * every;
  }

  String label() {
    return every == 0 ? "none" : (incremental ? "incremental " : "snapshot ") + every;
  }

  /** The label's short form, for job ids. */
  String tag() {
    return every == 0 ? "none" : (incremental ? "i" : "s") + every;
  }
}
