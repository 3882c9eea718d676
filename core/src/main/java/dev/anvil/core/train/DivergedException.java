package dev.anvil.core.train;

/** A round whose gradient or loss is not finite: training diverged or the data holds NaN. */
public final class DivergedException extends RuntimeException {
  private final long round;

  public DivergedException(long round, double meanLoss) {
    super(
        "training diverged in round "
            + round
            + ": the gradient is not finite (mean loss "
            + meanLoss
            + "); lower job.optimizer.learning-rate or set job.clip-norm");
    this.round = round;
  }

  public long round() {
    return round;
  }
}
