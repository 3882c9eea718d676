package dev.anvil.bench;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The checkpoint meters of the coordinators on some nodes (the coordinator's JobMetrics, read from
 * each node's {@code /metrics} and summed) at one moment, or what they recorded between two such
 * readings: checkpoints written and their encode + store time (a histogram: seconds upper bound to
 * the count at most that long), their bytes, checkpoints committed (journaled) and checkpoints not
 * written. The meters are the node's, not a job's: the difference of two readings is one job's only
 * when no other job ran in between.
 */
record CheckpointMeters(
    long written,
    double writeSeconds,
    SortedMap<Double, Long> writeBuckets,
    double bytes,
    long committed,
    long notWritten) {
  static final CheckpointMeters NONE = new CheckpointMeters(0, 0, new TreeMap<>(), 0, 0, 0);
  private static final String WRITE_TIME = "anvil_checkpoint_write_time_seconds";
  private static final String SIZE = "anvil_checkpoint_size_bytes";
  private static final String COMMITTED = "anvil_checkpoints_committed_total";
  private static final String NOT_WRITTEN = "anvil_checkpoint_write_failures_total";
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  CheckpointMeters {
    writeBuckets = Collections.unmodifiableSortedMap(new TreeMap<>(writeBuckets));
  }

  /**
   * The meters of the nodes whose HTTP APIs are at {@code urls}, summed; throws IOException naming
   * the node when one does not answer with them.
   */
  static CheckpointMeters scrape(List<String> urls) throws IOException {
    CheckpointMeters sum = NONE;
    for (String url : urls) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(url + "/metrics"))
              .timeout(Duration.ofSeconds(10))
              .build();
      HttpResponse<String> r;
      try {
        r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException(url + "/metrics: interrupted");
      }
      if (r.statusCode() != 200) {
        throw new IOException(url + "/metrics answered " + r.statusCode());
      }
      sum = sum.plus(parse(r.body()));
    }
    return sum;
  }

  /** The checkpoint meters in a Prometheus text exposition; a meter missing reads 0. */
  static CheckpointMeters parse(String text) {
    Map<String, Double> values = new TreeMap<>();
    SortedMap<Double, Long> buckets = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      String series = line.substring(0, space);
      double value = Double.parseDouble(line.substring(space + 1));
      if (series.startsWith(WRITE_TIME + "_bucket{")) {
        buckets.put(bound(series), Math.round(value));
      } else {
        values.put(series, value);
      }
    }
    return new CheckpointMeters(
        Math.round(values.getOrDefault(WRITE_TIME + "_count", 0.0)),
        values.getOrDefault(WRITE_TIME + "_sum", 0.0),
        buckets,
        values.getOrDefault(SIZE + "_sum", 0.0),
        Math.round(values.getOrDefault(COMMITTED, 0.0)),
        Math.round(values.getOrDefault(NOT_WRITTEN, 0.0)));
  }

  /** The {@code le} label of a bucket series, seconds. */
  private static double bound(String series) {
    int start = series.indexOf("le=\"") + 4;
    String le = series.substring(start, series.indexOf('"', start));
    return le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
  }

  CheckpointMeters plus(CheckpointMeters other) {
    return combine(other, 1);
  }

  /** What was recorded since {@code earlier}, a reading of the same nodes. */
  CheckpointMeters minus(CheckpointMeters earlier) {
    return combine(earlier, -1);
  }

  private CheckpointMeters combine(CheckpointMeters other, int sign) {
    SortedMap<Double, Long> buckets = new TreeMap<>(writeBuckets);
    other.writeBuckets.forEach((le, n) -> buckets.merge(le, sign * n, Long::sum));
    return new CheckpointMeters(
        written + sign * other.written,
        writeSeconds + sign * other.writeSeconds,
        buckets,
        bytes + sign * other.bytes,
        committed + sign * other.committed,
        notWritten + sign * other.notWritten);
  }

  /** The mean time of a checkpoint's encode and store, ms; NaN when none was written. */
  double meanWriteMs() {
    return written == 0 ? Double.NaN : 1000 * writeSeconds / written;
  }

  /** The mean size of a written checkpoint, bytes; 0 when none was written. */
  long meanBytes() {
    return written == 0 ? 0 : Math.round(bytes / written);
  }

  /**
   * The q-quantile of the write times, ms, estimated as Prometheus' histogram_quantile does: linear
   * within the bucket that holds it (the highest finite bound for the +Inf bucket); NaN when none
   * was written.
   */
  double writeMsQuantile(double q) {
    if (written == 0) {
      return Double.NaN;
    }
    double rank = q * written;
    double lower = 0;
    long below = 0;
    for (Map.Entry<Double, Long> b : writeBuckets.entrySet()) {
      if (b.getValue() >= rank) {
        if (b.getKey().isInfinite()) {
          return 1000 * lower;
        }
        return 1000 * (lower + (b.getKey() - lower) * (rank - below) / (b.getValue() - below));
      }
      lower = b.getKey();
      below = b.getValue();
    }
    return Double.NaN;
  }

  /** The upper bound of the bucket of the longest write, ms; NaN when none was written. */
  double maxWriteMsAtMost() {
    for (Map.Entry<Double, Long> b : writeBuckets.entrySet()) {
      if (written > 0 && b.getValue() >= written) {
        return 1000 * b.getKey();
      }
    }
    return Double.NaN;
  }

  /** The readings of several jobs added up, e.g. every run of one mode. */
  static CheckpointMeters sum(List<CheckpointMeters> all) {
    CheckpointMeters out = NONE;
    for (CheckpointMeters m : all) {
      out = out.plus(m);
    }
    return out;
  }
}
