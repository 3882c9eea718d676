package dev.anvil.coordinator;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.PreparedJob;

/**
 * A small synthetic job for the coordinator parts' tests: an MLP on a few hundred generated
 * samples, six logical shards, the Java kernel; prepared in milliseconds.
 */
final class SmallJob {
  private SmallJob() {}

  /** The job's spec; {@code extra} is more HOCON inside {@code job} (its length at least). */
  static JobSpec spec(String extra) {
    return JobSpecParser.parse(
        """
        job {
          name = "small"
          seed = 11
          model { type = mlp, layers = [5, 7, 3] }
          data { type = synthetic, samples = 300, features = 5, classes = 3, seed = 2 }
          optimizer { type = adam, learning-rate = 0.01 }
          batch-size = 24
          logical-shards = 6
          kernel = java
          %s
        }
        """
            .formatted(extra),
        "test",
        null);
  }

  /** The job of {@link #spec}, prepared. */
  static PreparedJob prepared(String extra) {
    return PreparedJob.prepare(spec(extra), "test");
  }
}
