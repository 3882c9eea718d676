package dev.anvil.coordinator;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.JobSpecWriter;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.RoundProgress;
import dev.anvil.core.train.TrainingListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The small synthetic job of the coordinator tests (24 rounds of a 10-12-4 MLP over 6 logical
 * shards, about a millisecond of arithmetic a round) and its reference run: core's {@link
 * LocalTrainer}, which {@code anvil train --local} runs. A distributed run of the job must end with
 * the reference's parameters hash and commit each round with the reference's loss, bit for bit.
 */
final class TinyJob {
  static final long ROUNDS = 24;

  /** The reference run's outcome: its parameters hash and each round's loss (round 1 first). */
  record Reference(String paramsSha256, List<Double> losses) {}

  private static final Map<String, Reference> REFERENCES = new ConcurrentHashMap<>();

  private TinyJob() {}

  /** The job; {@code checkpointEvery} rounds between checkpoints (0: none but a pause's). */
  static JobSpec spec(int checkpointEvery) {
    return JobSpecParser.parse(
        """
        job {
          name = "tiny"
          seed = 3
          model { type = mlp, layers = [10, 12, 4] }
          data { type = synthetic, samples = 1200, features = 10, classes = 4, seed = 5 }
          optimizer { type = sgd, learning-rate = 0.1, momentum = 0.9 }
          batch-size = 48
          logical-shards = 6
          rounds = %d
          kernel = java
          checkpoint { every-rounds = %d }
        }
        """
            .formatted(ROUNDS, checkpointEvery),
        "tiny job",
        null);
  }

  /** The job as a client sends it (JobSpecWriter's canonical text). */
  static String text(JobSpec spec) {
    return JobSpecWriter.toHocon(spec);
  }

  /** The reference run of {@code spec} (computed once per spec). */
  static Reference reference(JobSpec spec) {
    return REFERENCES.computeIfAbsent(text(spec), t -> run(spec));
  }

  private static Reference run(JobSpec spec) {
    List<Double> losses = new ArrayList<>();
    TrainingListener listener =
        new TrainingListener() {
          @Override
          public void roundCommitted(RoundProgress progress) {
            losses.add(progress.loss());
          }
        };
    String hash =
        new LocalTrainer(PreparedJob.prepare(spec, "reference"), 1, listener).run(0).paramsSha256();
    return new Reference(hash, List.copyOf(losses));
  }
}
