package dev.anvil.core.data;

/** The training samples (split into logical shards) and the held-out test samples. */
public record TrainTestData(Dataset train, Dataset test, String description) {
  public TrainTestData {
    if (train.features() != test.features()) {
      throw new IllegalArgumentException(
          "train has " + train.features() + " features but test has " + test.features());
    }
  }

  /** Shape that model sizes are checked against. */
  public DataShape shape() {
    return new DataShape(
        train.features(),
        Math.max(train.classes(), test.classes()),
        train.outputs(),
        train.hasLabels());
  }
}
