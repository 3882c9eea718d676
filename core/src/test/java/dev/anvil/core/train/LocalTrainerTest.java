package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.KernelChoice;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalTrainerTest {
  static final Path EXAMPLES = Path.of("..", "examples");

  /** A small synthetic job; {@code model} and {@code optimizer} are HOCON sections. */
  static JobSpec job(String model, String optimizer, String extra) {
    return JobSpecParser.parse(
        """
        job {
          name = "small"
          seed = 3
          model { %s }
          data { type = synthetic, samples = 1200, features = 10, classes = 4, seed = 5 }
          optimizer { %s }
          batch-size = 48
          logical-shards = 6
          rounds = 40
          kernel = java
          %s
        }
        """
            .formatted(model, optimizer, extra),
        "test",
        null);
  }

  static TrainingResult train(JobSpec spec, int workers) {
    return new LocalTrainer(PreparedJob.prepare(spec, "test"), workers, TrainingListener.NONE)
        .run(0);
  }

  @Test
  void sameJobTwiceGivesTheSameHash() {
    JobSpec spec = job("type = mlp, layers = [10, 12, 4]", "type = sgd, learning-rate = 0.1", "");
    assertEquals(train(spec, 2).paramsSha256(), train(spec, 2).paramsSha256());
  }

  @Test
  void anotherSeedGivesAnotherHash() {
    JobSpec spec = job("type = mlp, layers = [10, 12, 4]", "type = sgd, learning-rate = 0.1", "");
    assertNotEquals(train(spec, 1).paramsSha256(), train(spec.withSeed(4), 1).paramsSha256());
  }

  @Test
  void everyWorkerCountGivesTheSameBitsForEveryModelAndOptimizer() {
    List<JobSpec> jobs =
        List.of(
            job(
                "type = mlp, layers = [10, 12, 9, 4], activation = tanh",
                "type = sgd, learning-rate = 0.05, momentum = 0.9, nesterov = true,"
                    + " weight-decay = 0.001",
                "clip-norm = 0.05"),
            job(
                "type = softmax",
                "type = adam, learning-rate = 0.01",
                "schedule { type = cosine }"),
            job(
                "type = linear",
                "type = sgd, learning-rate = 0.01",
                "schedule { type = step, every-epochs = 1, gamma = 0.5 }"));
    for (JobSpec spec : jobs) {
      String reference = train(spec, 1).paramsSha256();
      for (int workers : new int[] {2, 3, 4, 5, 6, 9}) {
        assertEquals(
            reference,
            train(spec, workers).paramsSha256(),
            spec.model() + " with " + workers + " workers");
      }
    }
  }

  @Test
  void linearRegressionReportsLossNotAccuracy() {
    TrainingResult r = train(job("type = linear", "type = sgd, learning-rate = 0.01", ""), 2);
    assertNull(r.testAccuracy());
    assertTrue(r.testLoss() > 0 && r.testLoss() < 1, () -> "test loss " + r.testLoss());
    assertTrue(r.toJson().contains("\"testLoss\"") && !r.toJson().contains("testAccuracy"));
  }

  @Test
  void resultCarriesTheRunsFacts() {
    JobSpec spec = job("type = mlp, layers = [10, 12, 4]", "type = sgd, learning-rate = 0.1", "");
    TrainingResult r = train(spec, 2);
    assertEquals(40, r.rounds());
    assertEquals(40.0 / 22, r.epochs()); // 180 samples per shard, 8 a round: 22 rounds
    assertEquals("java", r.kernel());
    assertEquals(2, r.workers());
    assertEquals(64, r.paramsSha256().length());
    assertEquals(64, r.dataFingerprint().length());
    assertTrue(r.testAccuracy() > 0.35, () -> "accuracy " + r.testAccuracy() + ", chance 0.25");
    assertEquals(2, r.history().size());
    assertTrue(r.samplesPerSecond() > 0);
  }

  @Test
  void syntheticExampleHashIsPinned() {
    // The golden hash of examples/synthetic-mlp.conf with kernel = java. If this moves, the
    // training math, reduction or sampling changed: that breaks every recorded result, so it
    // must be a deliberate, documented change (docs/determinism.md).
    JobSpec spec =
        JobSpecParser.parse(EXAMPLES.resolve("synthetic-mlp.conf")).withKernel(KernelChoice.JAVA);
    TrainingResult r = train(spec, 2);
    assertEquals(
        "6f685ba6858dd6c7b550400c3a0ea31bc52427d33398019bfc3cc6484434ae52", r.paramsSha256());
    assertEquals(840, r.rounds());
  }

  @Test
  void goldenHashesOfEachModelKind() {
    assertEquals(
        "5f1966d2924bba5f65ad3f88b9f364ef7caf53cda8cf6154571533f67f79bf0b",
        train(job("type = softmax", "type = adam, learning-rate = 0.01", ""), 3).paramsSha256());
    assertEquals(
        "4ce73d984faf692339d61a5d211869b70d4599733a724b66df265bb75455a4c2",
        train(job("type = linear", "type = sgd, learning-rate = 0.01, momentum = 0.5", ""), 3)
            .paramsSha256());
    String model = "type = mlp, layers = [10, 12, 9, 4], activation = tanh";
    String sgd =
        "type = sgd, learning-rate = 0.05, momentum = 0.9, nesterov = true,"
            + " weight-decay = 0.001";
    String clipped =
        train(job(model, sgd, "clip-norm = 0.05\nschedule { type = cosine }"), 2).paramsSha256();
    assertEquals("4831210af29a71f3fd5efbbc730e4ed2c24f66228048e5ef7e4719cfcf0f416f", clipped);
    assertNotEquals(
        clipped,
        train(job(model, sgd, "schedule { type = cosine }"), 2).paramsSha256(),
        "clipping must have been active");
  }

  @Test
  void layerSizesThatDoNotMatchTheDataAreRejected() {
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () ->
                PreparedJob.prepare(
                    job("type = mlp, layers = [11, 12, 5]", "type = sgd, learning-rate = 0.1", ""),
                    "job.conf"));
    assertEquals(
        List.of(
            "job.model.layers[0] = 11: must equal the data's 10 features",
            "job.model.layers[2] = 5: must equal the data's 4 classes"),
        e.problems().stream().map(Object::toString).toList());
  }

  @Test
  void aUsersOwnModelClassTrainsLikeTheBuiltInOne() {
    TrainingResult own =
        train(
            job(
                "type = class, class = \"dev.anvil.core.model.UserModel\"",
                "type = adam, learning-rate = 0.01",
                ""),
            3);
    assertTrue(own.model().startsWith("user model around softmax 10-4"), own.model());
    assertEquals(
        train(job("type = softmax", "type = adam, learning-rate = 0.01", ""), 3).paramsSha256(),
        own.paramsSha256());
  }

  @Test
  void unknownModelClassIsRejected() {
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () ->
                PreparedJob.prepare(
                    job(
                        "type = class, class = \"com.example.Missing\"",
                        "type = sgd, learning-rate = 0.1",
                        ""),
                    "job.conf"));
    assertEquals(
        "job.model.class = com.example.Missing: no such class on the classpath",
        e.problems().get(0).toString());
  }

  @Test
  void softmaxTakesItsSizesFromTheData() {
    PreparedJob job =
        PreparedJob.prepare(job("type = softmax", "type = sgd, learning-rate = 0.1", ""), "t");
    assertEquals("softmax 10-4 (44 parameters)", job.model().describe());
  }

  @Test
  void batchLargerThanTheShardsCanFeedIsRejected() {
    JobSpec spec =
        JobSpecParser.parse(
            """
        job {
          name = "big-batch", model { type = softmax }
          data { type = synthetic, samples = 100, features = 3, classes = 2 }
          optimizer { type = sgd, learning-rate = 0.1 }
          batch-size = 400, logical-shards = 4, rounds = 3
        }
        """,
            "big.conf",
            null);
    JobSpecException e =
        assertThrows(JobSpecException.class, () -> PreparedJob.prepare(spec, "big.conf"));
    assertTrue(
        e.getMessage()
            .contains(
                "job.batch-size = 400: too large for the data: each of"
                    + " the 4 logical shards holds about 22 training samples, fewer than its 100"),
        e.getMessage());
  }

  @Test
  void divergenceStopsWithAClearError() {
    DivergedException e =
        assertThrows(
            DivergedException.class,
            () -> train(job("type = linear", "type = sgd, learning-rate = 1000", ""), 2));
    assertTrue(e.getMessage().startsWith("training diverged in round "), e.getMessage());
    assertTrue(e.getMessage().contains("lower job.optimizer.learning-rate"));
  }
}
