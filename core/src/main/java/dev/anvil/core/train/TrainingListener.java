package dev.anvil.core.train;

/** Progress callbacks of a training run; called on the training thread, so keep them cheap. */
public interface TrainingListener {
  TrainingListener NONE = new TrainingListener() {};

  /** Before round 0, once the data and model are ready. */
  default void started(PreparedJob job, int workers) {}

  /** After each committed round (1-based {@code round}). */
  default void roundCommitted(RoundProgress progress) {}

  /** After each completed epoch, with the test metrics. */
  default void epochCompleted(EpochReport report) {}
}
