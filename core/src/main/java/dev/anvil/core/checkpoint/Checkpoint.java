package dev.anvil.core.checkpoint;

import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.TrainingState;
import java.util.List;

/**
 * Everything needed to continue a job exactly after round {@code state.round()}, on any cluster:
 * the job (its spec as written by {@code JobSpecWriter}, the worker count it was submitted with),
 * what the bits depend on besides the spec (the data fingerprint and the kernel), the parameters
 * and optimizer state with the loss of the round that produced them, and the progress the result
 * reports (the epoch reports so far and the running sum of the current epoch's round losses).
 *
 * <p>Encoded by {@link CheckpointFormat}; the same bytes are a stored checkpoint and, with the job
 * id, an exported file.
 */
public record Checkpoint(
    String jobId,
    String spec,
    int workers,
    String dataFingerprint,
    String kernel,
    TrainingState state,
    double loss,
    List<EpochReport> history,
    double epochLossSum,
    long epochRounds) {

  public Checkpoint {
    history = List.copyOf(history);
  }

  public long round() {
    return state.round();
  }
}
