package dev.anvil.bench;

import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.RoundProgress;
import dev.anvil.core.train.TrainingListener;
import java.util.ArrayList;
import java.util.List;

/**
 * Times a run's training rounds from its callbacks, evaluation excluded. A round lasts from the
 * previous callback ({@code started}, {@code roundCommitted} or {@code epochCompleted}, whichever
 * came last) to its own {@code roundCommitted}; the test evaluation runs between a round's {@code
 * roundCommitted} and {@code epochCompleted}, so it falls outside every round.
 */
final class SteadyStateTimer implements TrainingListener {
  private long roundsPerEpoch;
  private int batchSize;
  private long last;
  private long epochNanos;
  private long steadyNanos;
  private long steadyRounds;
  private final List<Double> epochRates = new ArrayList<>();

  @Override
  public void started(PreparedJob job, int workers) {
    roundsPerEpoch = job.roundsPerEpoch();
    batchSize = job.spec().batchSize();
    last = System.nanoTime();
  }

  @Override
  public void roundCommitted(RoundProgress progress) {
    long now = System.nanoTime();
    long nanos = now - last;
    last = now;
    epochNanos += nanos;
    if (progress.round() > roundsPerEpoch) {
      steadyNanos += nanos;
      steadyRounds++;
    }
  }

  @Override
  public void epochCompleted(EpochReport report) {
    long rounds = report.round() - (long) epochRates.size() * roundsPerEpoch;
    epochRates.add(rounds * batchSize / (epochNanos / 1e9));
    epochNanos = 0;
    last = System.nanoTime();
  }

  /** Samples per second of the rounds after the first epoch; NaN when there were none. */
  double steadySamplesPerSecond() {
    return steadyRounds == 0 ? Double.NaN : steadyRounds * batchSize / (steadyNanos / 1e9);
  }

  /** Samples per second of each epoch's rounds, in order. */
  List<Double> epochRates() {
    return List.copyOf(epochRates);
  }
}
