package dev.anvil.core.optim;

import dev.anvil.core.spec.ScheduleSpec;

/** The learning rate of round r (0-based), a pure function of the job spec and r. */
public final class LearningRateSchedule {
  private final ScheduleSpec spec;
  private final double base;
  private final long totalRounds;
  private final long roundsPerEpoch;

  public LearningRateSchedule(
      ScheduleSpec spec, double base, long totalRounds, long roundsPerEpoch) {
    this.spec = spec;
    this.base = base;
    this.totalRounds = totalRounds;
    this.roundsPerEpoch = roundsPerEpoch;
  }

  public double at(long round) {
    if (spec instanceof ScheduleSpec.Step step) {
      long epoch = round / roundsPerEpoch;
      return base * StrictMath.pow(step.gamma(), epoch / step.everyEpochs());
    } else if (spec instanceof ScheduleSpec.Cosine cos) {
      double progress = totalRounds <= 1 ? 0 : (double) round / (totalRounds - 1);
      double end = cos.finalLearningRate();
      return end + (base - end) * 0.5 * (1.0 + StrictMath.cos(StrictMath.PI * progress));
    }
    return base;
  }
}
