package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.data.IdxReader;
import dev.anvil.core.data.TrainTestData;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The examples reach their accuracy bars on the real data set. Needs Debian's
 * dataset-fashion-mnist: runs in the full profile ({@code -Pfull}), where a missing data set is a
 * failure, not a skip.
 */
@Tag("fmnist")
class FashionMnistTest {
  static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  private static TrainingResult run(String example) {
    JobSpec spec = JobSpecParser.parse(LocalTrainerTest.EXAMPLES.resolve(example));
    return new LocalTrainer(
            PreparedJob.prepare(spec, example),
            Runtime.getRuntime().availableProcessors(),
            TrainingListener.NONE)
        .run(0);
  }

  /**
   * On the real shapes, where OpenBLAS changes micro-kernel with the height of a product (the large
   * MLP's 1024x10 forward from 7 shards), every stacked plan gives the bits of shard-by-shard
   * passes: what keeps {@code paramsSha256} unchanged on every worker count.
   */
  @ParameterizedTest
  @CsvSource({
    "784 128 10, native, 1, 16",
    "784 128 10, java, 1, 4",
    "784 1024 1024 10, native, 1, 4",
    "784 1024 1024 10, java, 3, 3"
  })
  void stackedPlansGiveTheBitsOfShardByShardPasses(
      String layers, String kernel, int fewest, int most) {
    JobSpec spec =
        JobSpecParser.parse(
            """
            job {
              name = "stacked", seed = 42
              model { type = mlp, layers = [%s], activation = relu }
              data { type = idx, path = "%s" }
              optimizer { type = sgd, learning-rate = 0.1 }
              batch-size = 256, logical-shards = 16, epochs = 1, kernel = %s
            }
            """
                .formatted(layers.replace(' ', ','), FASHION_MNIST, kernel),
            "test",
            null);
    PreparedJob job = PreparedJob.prepare(spec, "test");
    assertNull(job.stackReport().problem(), job.stackReport().summary());
    ShardComputerTest.everyPlanMatches(job, new long[] {0, 100}, fewest, most);
  }

  @Test
  void debianDataSetLoads() {
    TrainTestData data = IdxReader.load(FASHION_MNIST);
    assertEquals(60000, data.train().rows());
    assertEquals(10000, data.test().rows());
    assertEquals(784, data.train().features());
    assertEquals(10, data.train().classes());
  }

  @Test
  void mlpExampleReachesAtLeast87Percent() {
    TrainingResult r = run("fmnist-mlp.conf");
    assertTrue(r.testAccuracy() >= 0.87, () -> "test accuracy " + r.testAccuracy());
  }

  @Test
  void softmaxExampleReachesAtLeast83Percent() {
    TrainingResult r = run("fmnist-softmax.conf");
    assertTrue(r.testAccuracy() >= 0.83, () -> "test accuracy " + r.testAccuracy());
  }
}
