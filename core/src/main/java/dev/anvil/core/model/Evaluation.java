package dev.anvil.core.model;

/** Loss summed over a batch, and for a classifier how many samples were predicted right. */
public record Evaluation(double lossSum, long correct, long samples) {
  public static final Evaluation EMPTY = new Evaluation(0, 0, 0);

  public Evaluation plus(Evaluation other) {
    return new Evaluation(
        lossSum + other.lossSum, correct + other.correct, samples + other.samples);
  }

  public double meanLoss() {
    return samples == 0 ? Double.NaN : lossSum / samples;
  }

  public double accuracy() {
    return samples == 0 ? Double.NaN : (double) correct / samples;
  }
}
