package dev.anvil.core.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobSpecParserTest {
  @TempDir Path dir;

  /** A valid synthetic job; {@code extra} lines are appended inside {@code job { }}. */
  static String job(String... extra) {
    return """
        job {
          name = "t"
          seed = 1
          model { type = mlp, layers = [8, 16, 3], activation = relu }
          data { type = synthetic, samples = 400, features = 8, classes = 3, seed = 2 }
          optimizer { type = sgd, learning-rate = 0.1, momentum = 0.9 }
          batch-size = 32
          logical-shards = 4
          rounds = 10
        """
        + String.join("\n", extra)
        + "\n}\n";
  }

  private static List<Problem> problems(String text) {
    JobSpecException e =
        assertThrows(JobSpecException.class, () -> JobSpecParser.parse(text, "job.conf", null));
    return e.problems();
  }

  private static Problem only(String text) {
    List<Problem> p = problems(text);
    assertEquals(1, p.size(), () -> "expected one problem, got " + p);
    return p.get(0);
  }

  @Test
  void theDocumentedExampleParsesIntoTypedRecords() throws Exception {
    Files.createDirectories(dir.resolve("fmnist"));
    String text =
        """
        job {
          name = "fmnist-mlp"
          seed = 42
          model { type = mlp, layers = [784, 128, 10], activation = relu }
          data { type = idx, path = "fmnist" }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          schedule { type = constant }
          clip-norm = 0
          batch-size = 256
          logical-shards = 16
          epochs = 10
          kernel = auto
          checkpoint { every-rounds = 50, mode = snapshot }
        }
        """;
    JobSpec spec = JobSpecParser.parse(text, "job.conf", dir);
    assertEquals("fmnist-mlp", spec.name());
    assertEquals(42, spec.seed());
    assertEquals(new ModelSpec.Mlp(List.of(784, 128, 10), Activation.RELU), spec.model());
    assertEquals(new DataSpec.Idx(dir.resolve("fmnist")), spec.data());
    assertEquals(new OptimizerSpec.Sgd(0.05, 0.9, false, 0), spec.optimizer());
    assertEquals(new ScheduleSpec.Constant(), spec.schedule());
    assertEquals(new TrainingLength.Epochs(10), spec.length());
    assertEquals(KernelChoice.AUTO, spec.kernel());
    assertEquals(new CheckpointSpec(50, CheckpointSpec.Mode.SNAPSHOT), spec.checkpoint());
    assertEquals(16, spec.perShardBatch());
  }

  @Test
  void readsAJobFileAndResolvesDataPathsAgainstItsFolder() throws Exception {
    Files.writeString(dir.resolve("data.csv"), "1,2,0\n3,4,1\n");
    Path file = dir.resolve("job.conf");
    Files.writeString(
        file,
        job()
            .replace(
                "data { type = synthetic, samples = 400, features = 8, classes = 3, seed = 2 }",
                "data { type = csv, path = \"data.csv\", label-column = 2 }"));
    JobSpec spec = JobSpecParser.parse(file);
    assertEquals(new DataSpec.Csv(dir.resolve("data.csv"), "2", 0.1), spec.data());
  }

  @Test
  void negativeLearningRateIsRejectedWithPathValueAndRange() {
    Problem p = only(job().replace("learning-rate = 0.1", "learning-rate = -0.1"));
    assertEquals("job.optimizer.learning-rate", p.path());
    assertEquals("-0.1", p.value());
    assertEquals("a finite number > 0", p.expected());
  }

  @Test
  void nanLearningRateIsRejected() {
    Problem p = only(job().replace("learning-rate = 0.1", "learning-rate = NaN"));
    assertEquals("job.optimizer.learning-rate", p.path());
    assertEquals("\"NaN\"", p.value());
    assertTrue(p.expected().contains("finite"));
  }

  @Test
  void zeroLogicalShardsIsRejected() {
    Problem p = only(job().replace("logical-shards = 4", "logical-shards = 0"));
    assertEquals("job.logical-shards = 0: a whole number from 1 to 4096", p.toString());
  }

  @Test
  void batchSizeNotDivisibleByShardsNamesTheNearestValidSizes() {
    Problem p = only(job().replace("batch-size = 32", "batch-size = 30"));
    assertEquals("job.batch-size", p.path());
    assertEquals("30", p.value());
    assertTrue(p.expected().contains("divisible by job.logical-shards (4)"), p.expected());
    assertTrue(p.expected().contains("28 or 32"), p.expected());
  }

  @Test
  void bothEpochsAndRoundsIsRejected() {
    Problem p = only(job("epochs = 3"));
    assertEquals("job.epochs, job.rounds", p.path());
    assertEquals("3, 10", p.value());
    assertEquals("give exactly one of epochs and rounds", p.expected());
  }

  @Test
  void neitherEpochsNorRoundsIsRejected() {
    Problem p = only(job().replace("rounds = 10", ""));
    assertEquals(
        "job.epochs | job.rounds = missing: give exactly one of epochs and rounds", p.toString());
  }

  @Test
  void unknownModelTypeListsTheAllowedOnes() {
    Problem p =
        only(job().replace("type = mlp, layers = [8, 16, 3], activation = relu", "type = cnn"));
    assertEquals(
        "job.model.type = \"cnn\": must be one of mlp | softmax | linear | class", p.toString());
  }

  @Test
  void missingDataFolderIsRejected() {
    Problem p =
        only(
            job()
                .replace(
                    "type = synthetic, samples = 400, features = 8, classes = 3, seed = 2",
                    "type = idx, path = \"/no/such/folder\""));
    assertEquals("job.data.path", p.path());
    assertEquals("\"/no/such/folder\"", p.value());
    assertTrue(p.expected().contains("/no/such/folder is not a folder"), p.expected());
    assertTrue(p.expected().contains("apt-get install dataset-fashion-mnist"), p.expected());
  }

  @Test
  void hoconSyntaxErrorNamesItsLine() {
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () ->
                JobSpecParser.parse("job {\n  name = \"x\"\n  seed = [1,\n}\n", "bad.conf", null));
    Problem p = e.problems().get(0);
    assertEquals("job file", p.path());
    assertEquals("line 4", p.value());
    assertTrue(p.expected().startsWith("not valid HOCON: "), p.expected());
    assertTrue(e.getMessage().startsWith("invalid job spec bad.conf:"), e.getMessage());
  }

  @Test
  void misspelledKeyIsReportedAsUnknownWithTheAllowedKeys() {
    Problem p =
        only(job().replace("learning-rate = 0.1", "learning-rate = 0.1, learning_rate = 1"));
    assertEquals("job.optimizer.learning_rate", p.path());
    assertTrue(
        p.expected().startsWith("unknown key; allowed here: learning-rate, momentum"),
        p.expected());
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    List<Problem> p =
        problems(
            job()
                .replace("learning-rate = 0.1", "learning-rate = -1")
                .replace("logical-shards = 4", "logical-shards = 0")
                .replace("name = \"t\"", "name = \"bad name!\""));
    assertEquals(
        List.of("job.name", "job.optimizer.learning-rate", "job.logical-shards"),
        p.stream().map(Problem::path).toList());
  }

  @Test
  void wrongTypesAreReportedNotThrown() {
    List<Problem> p =
        problems(
            job()
                .replace("batch-size = 32", "batch-size = \"many\"")
                .replace("layers = [8, 16, 3]", "layers = [8, -16, 3.5]"));
    assertEquals(
        List.of("job.model.layers[1]", "job.model.layers[2]", "job.batch-size"),
        p.stream().map(Problem::path).toList());
  }

  @Test
  void missingSectionsAreReported() {
    JobSpecException e =
        assertThrows(
            JobSpecException.class, () -> JobSpecParser.parse("job { name = x }", "j", null));
    List<String> paths = e.problems().stream().map(Problem::path).toList();
    assertTrue(
        paths.containsAll(
            List.of(
                "job.model",
                "job.data",
                "job.optimizer",
                "job.logical-shards",
                "job.batch-size",
                "job.epochs | job.rounds")),
        paths.toString());
  }

  @Test
  void nesterovWithoutMomentumIsRejected() {
    Problem p = only(job().replace("momentum = 0.9", "nesterov = true"));
    assertEquals("job.optimizer.nesterov = true: needs job.optimizer.momentum > 0", p.toString());
  }

  @Test
  void optionalSectionsHaveDefaults() {
    JobSpec spec = JobSpecParser.parse(job(), "j", null);
    assertEquals(new ScheduleSpec.Constant(), spec.schedule());
    assertEquals(0.0, spec.clipNorm());
    assertEquals(KernelChoice.AUTO, spec.kernel());
    assertEquals(new CheckpointSpec(50, CheckpointSpec.Mode.SNAPSHOT), spec.checkpoint());
    assertInstanceOf(TrainingLength.Rounds.class, spec.length());
  }

  @Test
  void adamCosineAndIncrementalCheckpointsParse() {
    JobSpec spec =
        JobSpecParser.parse(
            job(
                    "schedule { type = cosine, final-learning-rate = 0.001 }",
                    "checkpoint { every-rounds = 10, mode = incremental }",
                    "kernel = java",
                    "clip-norm = 5")
                .replace(
                    "type = sgd, learning-rate = 0.1, momentum = 0.9",
                    "type = adam, learning-rate = 0.01"),
            "j",
            null);
    assertEquals(new OptimizerSpec.Adam(0.01, 0.9, 0.999, 1e-8, 0), spec.optimizer());
    assertEquals(new ScheduleSpec.Cosine(0.001), spec.schedule());
    assertEquals(new CheckpointSpec(10, CheckpointSpec.Mode.INCREMENTAL), spec.checkpoint());
    assertEquals(KernelChoice.JAVA, spec.kernel());
    assertEquals(5.0, spec.clipNorm());
  }
}
