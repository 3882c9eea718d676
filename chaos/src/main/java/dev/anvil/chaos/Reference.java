package dev.anvil.chaos;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import dev.anvil.core.train.TrainingResult;

/**
 * The fault-free run a chaos run is judged against: the single-process reference trainer's final
 * {@code paramsSha256} and round count for the same spec (by the determinism contract, what any
 * cluster of any size must end with).
 */
public record Reference(String paramsSha256, long rounds, double seconds) {
  /** Trains {@code spec} on the reference trainer in this JVM. */
  public static Reference of(JobSpec spec) {
    long start = System.nanoTime();
    TrainingResult r =
        new LocalTrainer(PreparedJob.prepare(spec, "reference"), 1, TrainingListener.NONE).run(0);
    return new Reference(r.paramsSha256(), r.rounds(), (System.nanoTime() - start) / 1e9);
  }
}
