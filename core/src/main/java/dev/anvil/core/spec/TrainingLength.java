package dev.anvil.core.spec;

/** How long a job trains: exactly one of {@code job.epochs} and {@code job.rounds}. */
public sealed interface TrainingLength {

  /** Total rounds, given the rounds in one epoch. */
  long totalRounds(long roundsPerEpoch);

  record Epochs(int epochs) implements TrainingLength {
    @Override
    public long totalRounds(long roundsPerEpoch) {
      return epochs * roundsPerEpoch;
    }
  }

  record Rounds(long rounds) implements TrainingLength {
    @Override
    public long totalRounds(long roundsPerEpoch) {
      return rounds;
    }
  }
}
