package dev.anvil.runtime.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.anvil.core.train.ClusterFacts;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.TrainingResult;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ResultJsonTest {
  @Test
  void aClusterResultReadsBackToTheSameJson() {
    TrainingResult r =
        new TrainingResult(
            "j",
            "mlp 4-2",
            7,
            "java",
            "stacked: heights 1..16 (16 rows a shard) checked, all equal",
            40,
            2.0,
            8,
            64,
            3,
            3,
            0.25,
            0.875,
            0.3,
            "ab".repeat(32),
            "cd".repeat(32),
            12.5,
            10.25,
            250.0,
            List.of(
                new EpochReport(1.0, 20, 0.5, 0.4, 0.75),
                new EpochReport(2.0, 40, 0.25, 0.3, 0.875)),
            new ClusterFacts(
                new TreeMap<>(java.util.Map.of("compute", 1.5)),
                2,
                3,
                4,
                5,
                List.of(new Recovery("coordinator-restart", "epoch 2", 4, 10, 20, 30, 5, 7, 8, 9)),
                6));
    TrainingResult back = ResultJson.parse(r.toJson());
    assertEquals(r.toJson(), back.toJson());
    assertEquals(r, back);
  }

  @Test
  void aLocalRegressionResultHasNoAccuracyAndNoClusterFacts() {
    TrainingResult r =
        new TrainingResult(
            "j",
            "linear",
            1,
            "java",
            null,
            10,
            1.0,
            4,
            8,
            1,
            1,
            0.5,
            null,
            0.6,
            "ab".repeat(32),
            "cd".repeat(32),
            1,
            1,
            80,
            List.of(),
            null);
    TrainingResult back = ResultJson.parse(r.toJson());
    assertNull(back.testAccuracy());
    assertNull(back.cluster());
    assertEquals(r.toJson(), back.toJson());
  }

  @Test
  void notJsonIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> ResultJson.parse("{not json"));
  }
}
