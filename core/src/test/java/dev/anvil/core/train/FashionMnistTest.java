package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.data.IdxReader;
import dev.anvil.core.data.TrainTestData;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
