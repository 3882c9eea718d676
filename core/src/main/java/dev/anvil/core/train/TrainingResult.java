package dev.anvil.core.train;

import java.util.List;
import java.util.Locale;

/**
 * What a finished job reports; written as {@code result.json}. {@code paramsSha256} is the SHA-256
 * of the final parameters as little-endian float32: equal hashes mean bitwise-equal parameters.
 * {@code samplesPerSecond} counts training rounds only (evaluation excluded); {@code wallSeconds}
 * is the whole run, data loading included. {@code roundTimeSplitMs} (a cluster run only, else null)
 * is where a round's time went, in mean milliseconds a round; a cluster run also reports its
 * recoveries ({@link ClusterFacts}). {@code stacking} is how shards were stacked into passes on the
 * machine that built the result ({@link StackReport#summary()}), or null when not known.
 */
public record TrainingResult(
    String job,
    String model,
    long seed,
    String kernel,
    String stacking,
    long rounds,
    double epochs,
    int logicalShards,
    int batchSize,
    int workers,
    int nodes,
    double trainLoss,
    Double testAccuracy,
    double testLoss,
    String paramsSha256,
    String dataFingerprint,
    double wallSeconds,
    double trainSeconds,
    double samplesPerSecond,
    List<EpochReport> history,
    ClusterFacts cluster) {

  public TrainingResult {
    history = List.copyOf(history);
  }

  /** The result as a JSON object (keys in a fixed order; non-finite numbers as null). */
  public String toJson() {
    StringBuilder sb = new StringBuilder("{\n");
    field(sb, "job", job);
    field(sb, "model", model);
    field(sb, "seed", seed);
    field(sb, "kernel", kernel);
    if (stacking != null) {
      field(sb, "stacking", stacking);
    }
    field(sb, "rounds", rounds);
    field(sb, "epochs", epochs);
    field(sb, "logicalShards", logicalShards);
    field(sb, "batchSize", batchSize);
    field(sb, "workers", workers);
    field(sb, "nodes", nodes);
    field(sb, "trainLoss", trainLoss);
    if (testAccuracy != null) {
      field(sb, "testAccuracy", testAccuracy);
    }
    field(sb, "testLoss", testLoss);
    field(sb, "paramsSha256", paramsSha256);
    field(sb, "dataFingerprint", dataFingerprint);
    field(sb, "wallSeconds", wallSeconds);
    field(sb, "trainSeconds", trainSeconds);
    field(sb, "samplesPerSecond", samplesPerSecond);
    if (cluster != null) {
      cluster.appendJson(sb);
    }
    sb.append("  \"history\": [");
    for (int i = 0; i < history.size(); i++) {
      EpochReport e = history.get(i);
      sb.append(i == 0 ? "\n" : ",\n")
          .append("    {\"epoch\": ")
          .append(number(e.epoch()))
          .append(", \"round\": ")
          .append(e.round())
          .append(", \"trainLoss\": ")
          .append(number(e.trainLoss()))
          .append(", \"testLoss\": ")
          .append(number(e.testLoss()));
      if (e.testAccuracy() != null) {
        sb.append(", \"testAccuracy\": ").append(number(e.testAccuracy()));
      }
      sb.append('}');
    }
    sb.append(history.isEmpty() ? "]\n" : "\n  ]\n").append("}\n");
    return sb.toString();
  }

  private static void field(StringBuilder sb, String key, Object value) {
    sb.append("  \"").append(key).append("\": ");
    if (value instanceof String s) {
      sb.append(quote(s));
    } else if (value instanceof Double d) {
      sb.append(number(d));
    } else {
      sb.append(value);
    }
    sb.append(",\n");
  }

  static String number(double d) {
    if (!Double.isFinite(d)) {
      return "null";
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return String.format(Locale.ROOT, "%.1f", d);
    }
    return Double.toString(d);
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
