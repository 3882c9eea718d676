package dev.anvil.core.train;

import java.util.List;
import java.util.SortedMap;

/**
 * What only a cluster run reports in its result: where a round's time went (mean milliseconds a
 * round), how many coordinator incarnations ran the job, results that arrived after their work had
 * already been covered by another worker, results rejected as bad (non-finite values, a wrong
 * length: never applied), tree nodes re-dispatched, every recovery, and the rounds this incarnation
 * summed on the data plane (docs/data-plane.md; the others went through the coordinator).
 */
public record ClusterFacts(
    SortedMap<String, Double> roundTimeSplitMs,
    long coordinatorEpochs,
    long lateResults,
    long rejectedResults,
    long redispatchedTreeNodes,
    List<Recovery> recoveries,
    long dataPlaneRounds) {

  public ClusterFacts {
    roundTimeSplitMs =
        java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(roundTimeSplitMs));
    recoveries = List.copyOf(recoveries);
  }

  void appendJson(StringBuilder sb) {
    sb.append("  \"roundTimeSplitMs\": {");
    String sep = "";
    for (var e : roundTimeSplitMs.entrySet()) {
      sb.append(sep)
          .append(TrainingResult.quote(e.getKey()))
          .append(": ")
          .append(TrainingResult.number(e.getValue()));
      sep = ", ";
    }
    sb.append("},\n");
    sb.append("  \"coordinatorEpochs\": ").append(coordinatorEpochs).append(",\n");
    sb.append("  \"lateResults\": ").append(lateResults).append(",\n");
    sb.append("  \"rejectedResults\": ").append(rejectedResults).append(",\n");
    sb.append("  \"redispatchedTreeNodes\": ").append(redispatchedTreeNodes).append(",\n");
    sb.append("  \"dataPlaneRounds\": ").append(dataPlaneRounds).append(",\n");
    sb.append("  \"recoveries\": [");
    for (int i = 0; i < recoveries.size(); i++) {
      sb.append(i == 0 ? "\n    " : ",\n    ").append(recoveries.get(i).toJson());
    }
    sb.append(recoveries.isEmpty() ? "],\n" : "\n  ],\n");
  }
}
