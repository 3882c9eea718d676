package dev.anvil.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CheckpointMeters reads the coordinator's checkpoint meters as Prometheus exposes them. */
class CheckpointMetersTest {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  // as JobMetrics registers them
  private final Timer writeTime =
      Timer.builder("anvil.checkpoint.write.time")
          .publishPercentileHistogram()
          .minimumExpectedValue(Duration.ofMillis(1))
          .maximumExpectedValue(Duration.ofSeconds(60))
          .register(registry);
  private final DistributionSummary size =
      DistributionSummary.builder("anvil.checkpoint.size").baseUnit("bytes").register(registry);
  private final Counter committed =
      Counter.builder("anvil.checkpoints.committed").register(registry);
  private final Counter failed =
      Counter.builder("anvil.checkpoint.write.failures").register(registry);

  private void written(long ms, long bytes) {
    writeTime.record(Duration.ofMillis(ms));
    size.record(bytes);
    committed.increment();
  }

  @Test
  void differenceOfTwoScrapesIsWhatWasRecordedBetween() {
    written(40, 500);
    failed.increment();
    CheckpointMeters before = CheckpointMeters.parse(registry.scrape());
    written(4, 1000);
    written(5, 1000);
    written(6, 1000);
    written(100, 1001);
    CheckpointMeters during = CheckpointMeters.parse(registry.scrape()).minus(before);

    assertEquals(4, during.written());
    assertEquals(4, during.committed());
    assertEquals(0, during.notWritten());
    assertEquals(1000, during.meanBytes());
    assertEquals(28.75, during.meanWriteMs(), 1e-6);
    // 4 ms and 5 ms lie in the buckets up to 4.19 and 5.59 ms: the median is the latter's bound
    assertEquals(5.592, during.writeMsQuantile(0.5), 0.01);
    double max = during.maxWriteMsAtMost();
    assertTrue(max >= 100 && max < 112, "100 ms is in the bucket up to 111.8 ms: " + max);
  }

  @Test
  void noCheckpointWrittenHasNoTimes() {
    failed.increment();
    CheckpointMeters m = CheckpointMeters.parse(registry.scrape());
    assertEquals(0, m.written());
    assertEquals(1, m.notWritten());
    assertEquals(0, m.meanBytes());
    assertTrue(Double.isNaN(m.meanWriteMs()));
    assertTrue(Double.isNaN(m.writeMsQuantile(0.5)));
    assertTrue(Double.isNaN(m.maxWriteMsAtMost()));
  }

  @Test
  void readingsOfSeveralNodesAddUp() {
    written(10, 2000);
    CheckpointMeters one = CheckpointMeters.parse(registry.scrape());
    CheckpointMeters both = CheckpointMeters.sum(List.of(one, one));
    assertEquals(2, both.written());
    assertEquals(2, both.committed());
    assertEquals(2000, both.meanBytes());
    assertEquals(10, both.meanWriteMs(), 1e-6);
  }
}
