package dev.anvil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.bench.CheckpointBenchOptions.Optimizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's command line: its defaults, and errors that name the option and the value. */
class CheckpointBenchOptionsTest {
  @Test
  void noArgumentsGiveTheDocumentedDefaults() {
    CheckpointBenchOptions o = CheckpointBenchOptions.parse(new String[0]);
    assertEquals(
        List.of(BenchModel.of("small", 2000, 1000), BenchModel.of("large", 300, 60)), o.models());
    assertEquals(3, o.repeats());
    assertEquals(20, o.directReps());
    assertEquals(5, o.directWarmup());
    assertEquals(20, o.gradientBatch());
    assertEquals(Optimizer.SGD, o.optimizer());
    assertTrue(o.direct() && o.cluster() && o.torch());
    assertFalse(o.checkpointFiles());
  }

  @Test
  void roundsGoToTheirModel() {
    CheckpointBenchOptions o =
        CheckpointBenchOptions.parse(
            new String[] {
              "--models",
              "tiny,small",
              "--tiny-rounds",
              "20",
              "--warmup-tiny-rounds",
              "11",
              "--small-rounds",
              "120",
              "--optimizer",
              "adam",
              "--no-cluster",
              "--checkpoint-directory"
            });
    assertEquals(
        List.of(BenchModel.of("tiny", 20, 11), BenchModel.of("small", 120, 1000)), o.models());
    assertEquals(Optimizer.ADAM, o.optimizer());
    assertFalse(o.cluster());
    assertTrue(o.checkpointFiles());
  }

  @Test
  void aValueOutOfRangeNamesTheOptionTheValueAndTheLeast() {
    assertEquals("--small-rounds = 10: must be an integer >= 11", error("--small-rounds", "10"));
    assertEquals("--repeats = many: must be an integer >= 1", error("--repeats", "many"));
    assertEquals("--optimizer = rmsprop: must be sgd or adam", error("--optimizer", "rmsprop"));
  }

  @Test
  void unknownMissingAndRepeatedValuesAreRefused() {
    assertEquals("--fast: unknown option", error("--fast"));
    assertEquals("--direct-reps: needs a value", error("--direct-reps"));
    assertTrue(error("--models", "small,small").startsWith("--models = small,small: must be"));
    assertTrue(error("--models", "huge").startsWith("--models = huge: must be"));
  }

  private static String error(String... args) {
    return assertThrows(IllegalArgumentException.class, () -> CheckpointBenchOptions.parse(args))
        .getMessage();
  }
}
