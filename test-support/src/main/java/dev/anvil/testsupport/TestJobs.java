package dev.anvil.testsupport;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import java.util.Locale;

/**
 * The jobs that tests of several classes train, and the fault-free hash they are judged by. Each is
 * HOCON text with a name and a round count; {@code overrides} are lines of HOCON put after it (e.g.
 * {@code job.seed = 4}), whose values win over the job's (objects merge key by key).
 */
public final class TestJobs {
  /** MLP 24-256-4 on 6000 synthetic samples in 12 shards: a round takes milliseconds. */
  private static final String FAULT =
      """
      job {
        name = "%s", seed = 9
        model { type = mlp, layers = [24, 256, 4] }
        data { type = synthetic, samples = 6000, features = 24, classes = 4, seed = 3 }
        optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
        batch-size = 96, logical-shards = 12, rounds = %d, kernel = java
        checkpoint { every-rounds = 50, mode = snapshot }
      }
      """;

  /** MLP 16-64-4 on 8000 synthetic samples in 12 shards, a snapshot every 100 rounds. */
  private static final String CHAOS =
      """
      job {
        name = "%s", seed = 4
        model { type = mlp, layers = [16, 64, 4] }
        data { type = synthetic, samples = 8000, features = 16, classes = 4, seed = 2 }
        optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
        batch-size = 96, logical-shards = 12, rounds = %d, kernel = java
        checkpoint { every-rounds = 100, mode = snapshot }
      }
      """;

  /** MLP 16-32-4 on 4000 synthetic samples in 8 shards, plain SGD. */
  private static final String SMALL =
      """
      job {
        name = "%s", seed = 3
        model { type = mlp, layers = [16, 32, 4] }
        data { type = synthetic, samples = 4000, features = 16, classes = 4, seed = 1 }
        optimizer { type = sgd, learning-rate = 0.05 }
        batch-size = 64, logical-shards = 8, rounds = %d, kernel = java
      }
      """;

  private TestJobs() {}

  /**
   * The job of the runtime's fault tests (a node killed, frozen or leaving mid-job): an MLP
   * 24-256-4 with momentum, a snapshot every 50 rounds, rounds of a few milliseconds.
   */
  public static JobSpec faultJob(String name, long rounds, String... overrides) {
    return parse(FAULT, name, rounds, overrides);
  }

  /** The job of the chaos module's tests: an MLP 16-64-4, a snapshot every 100 rounds. */
  public static JobSpec chaosJob(String name, long rounds, String... overrides) {
    return parse(CHAOS, name, rounds, overrides);
  }

  /** The job text the command tests write to a file: an MLP 16-32-4, plain SGD. */
  public static String smallJobText(String name, long rounds, String... overrides) {
    return text(SMALL, name, rounds, overrides);
  }

  /** {@code spec}'s parameters' hash as the single-process reference trainer ends with it. */
  public static String referenceHash(JobSpec spec) {
    return new LocalTrainer(PreparedJob.prepare(spec, "reference"), 1, TrainingListener.NONE)
        .run(0)
        .paramsSha256();
  }

  private static JobSpec parse(String template, String name, long rounds, String... overrides) {
    return JobSpecParser.parse(text(template, name, rounds, overrides), name, null);
  }

  private static String text(String template, String name, long rounds, String... overrides) {
    return String.format(Locale.ROOT, template, name, rounds)
        + String.join("\n", overrides)
        + (overrides.length > 0 ? "\n" : "");
  }
}
