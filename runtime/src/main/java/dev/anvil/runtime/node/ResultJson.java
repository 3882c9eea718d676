package dev.anvil.runtime.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.core.train.ClusterFacts;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.TrainingResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** Reads a result.json back into a {@link TrainingResult} (what the embedding API returns). */
public final class ResultJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ResultJson() {}

  public static TrainingResult parse(String json) {
    JsonNode r;
    try {
      r = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a result.json: " + e.getMessage(), e);
    }
    List<EpochReport> history = new ArrayList<>();
    for (JsonNode e : r.path("history")) {
      history.add(
          new EpochReport(
              number(e, "epoch"),
              e.path("round").asLong(),
              number(e, "trainLoss"),
              number(e, "testLoss"),
              optional(e, "testAccuracy")));
    }
    ClusterFacts cluster = null;
    if (r.has("coordinatorEpochs")) {
      TreeMap<String, Double> split = new TreeMap<>();
      r.path("roundTimeSplitMs")
          .fields()
          .forEachRemaining(f -> split.put(f.getKey(), f.getValue().asDouble()));
      List<Recovery> recoveries = new ArrayList<>();
      for (JsonNode v : r.path("recoveries")) {
        recoveries.add(
            new Recovery(
                v.path("kind").asText(),
                v.path("detail").asText(),
                v.path("lastHeardMillis").asLong(),
                v.path("faultSeenMillis").asLong(),
                v.path("redispatchedMillis").asLong(),
                v.path("firstCommitMillis").asLong(),
                v.path("lastCommitBeforeMillis").asLong(),
                v.path("redoneRounds").asLong(),
                v.path("replayMillis").asLong(),
                v.path("treeNodesRedispatched").asInt()));
      }
      cluster =
          new ClusterFacts(
              split,
              r.path("coordinatorEpochs").asLong(),
              r.path("lateResults").asLong(),
              r.path("rejectedResults").asLong(),
              r.path("redispatchedTreeNodes").asLong(),
              recoveries,
              r.path("dataPlaneRounds").asLong());
    }
    return new TrainingResult(
        r.path("job").asText(),
        r.path("model").asText(),
        r.path("seed").asLong(),
        r.path("kernel").asText(),
        r.hasNonNull("stacking") ? r.get("stacking").asText() : null,
        r.path("rounds").asLong(),
        number(r, "epochs"),
        r.path("logicalShards").asInt(),
        r.path("batchSize").asInt(),
        r.path("workers").asInt(),
        r.path("nodes").asInt(),
        number(r, "trainLoss"),
        optional(r, "testAccuracy"),
        number(r, "testLoss"),
        r.path("paramsSha256").asText(),
        r.path("dataFingerprint").asText(),
        number(r, "wallSeconds"),
        number(r, "trainSeconds"),
        number(r, "samplesPerSecond"),
        history,
        cluster);
  }

  private static double number(JsonNode n, String key) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? Double.NaN : v.asDouble();
  }

  private static Double optional(JsonNode n, String key) {
    JsonNode v = n.get(key);
    return v == null ? null : v.isNull() ? Double.NaN : v.asDouble();
  }
}
