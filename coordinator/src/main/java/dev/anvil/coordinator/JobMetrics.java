package dev.anvil.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.setup.Setup;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The coordinators' meters in one actor system (Micrometer): rounds committed, round times,
 * samples/s, re-dispatched work, late and rejected results, lost nodes, recovery times, checkpoint
 * times and sizes, checkpoints committed and not written, journal errors. The registry is a
 * composite whose registries are fixed when the actor system starts ({@link Publish}, in its
 * setup): the node's Prometheus registry served at /metrics, and any an embedding service gives.
 * They are in place before the first meter is registered, so every registry sees every recording. A
 * registry added later through {@link #registry()} misses what was recorded before (Micrometer
 * warns about it).
 */
public final class JobMetrics implements Extension {
  private static final ExtensionId<JobMetrics> ID =
      new ExtensionId<>() {
        @Override
        public JobMetrics createExtension(ActorSystem<?> system) {
          return new JobMetrics(
              system
                  .settings()
                  .setup()
                  .get(Publish.class)
                  .map(Publish::registries)
                  .orElse(List.of()));
        }
      };

  /**
   * The registries the meters of an actor system are published to: give it in the system's {@code
   * ActorSystemSetup}. Without it the meters are kept by no registry (recordings are dropped) until
   * one is added.
   */
  public static final class Publish extends Setup {
    private final List<MeterRegistry> registries;

    public Publish(List<MeterRegistry> registries) {
      this.registries = List.copyOf(registries);
    }

    public List<MeterRegistry> registries() {
      return registries;
    }
  }

  private final CompositeMeterRegistry registry = new CompositeMeterRegistry();
  private final Counter rounds;
  private final Timer roundTime;
  private final Counter redispatched;
  private final Counter late;
  private final Counter rejected;
  private final Counter nodesLost;
  private final Timer checkpointTime;
  private final DistributionSummary checkpointBytes;
  private final Counter checkpointsCommitted;
  private final Counter checkpointWriteFailures;
  private final Counter journalErrors;
  private final Map<String, AtomicLong> samplesPerSecond = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> jobWorkers = new ConcurrentHashMap<>();

  private JobMetrics(List<MeterRegistry> publishTo) {
    publishTo.forEach(registry::add);
    rounds =
        Counter.builder("anvil.rounds.committed")
            .description("Rounds committed (durable in the journal)")
            .register(registry);
    roundTime =
        Timer.builder("anvil.round.time")
            .description("Wall time of a round")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry);
    redispatched =
        Counter.builder("anvil.redispatched.tree.nodes")
            .description("Tree nodes of a round sent to another worker")
            .register(registry);
    late =
        Counter.builder("anvil.late.results")
            .description("Results that arrived after their work was covered")
            .register(registry);
    rejected =
        Counter.builder("anvil.rejected.results")
            .description("Results rejected as bad (non-finite, wrong length)")
            .register(registry);
    nodesLost =
        Counter.builder("anvil.node.failures")
            .description("Nodes a job's coordinator saw become unreachable")
            .register(registry);
    // a histogram: write-time quantiles between any two scrapes (e.g. before and after a job)
    checkpointTime =
        Timer.builder("anvil.checkpoint.write.time")
            .description("Time to encode and store a checkpoint")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(60))
            .register(registry);
    checkpointBytes =
        DistributionSummary.builder("anvil.checkpoint.size")
            .baseUnit("bytes")
            .description("Size of a stored checkpoint")
            .register(registry);
    checkpointsCommitted =
        Counter.builder("anvil.checkpoints.committed")
            .description("Checkpoints stored and journaled (a restart can use them)")
            .register(registry);
    checkpointWriteFailures =
        Counter.builder("anvil.checkpoint.write.failures")
            .description("Checkpoints not stored (encoding or the store failed); training went on")
            .register(registry);
    journalErrors =
        Counter.builder("anvil.journal.errors")
            .description("Journal writes not acknowledged in time")
            .register(registry);
  }

  public static JobMetrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The registry the meters live in; add registries to publish them. */
  public CompositeMeterRegistry registry() {
    return registry;
  }

  void roundComputed(long wallNanos) {
    roundTime.record(Duration.ofNanos(wallNanos));
  }

  void roundsDurable(String jobId, long count, double samplesPerSec) {
    rounds.increment(count);
    samplesPerSecond
        .computeIfAbsent(
            jobId,
            id -> {
              AtomicLong holder = new AtomicLong();
              registry.gauge(
                  "anvil.samples.per.second",
                  io.micrometer.core.instrument.Tags.of("job", id),
                  holder,
                  AtomicLong::get);
              return holder;
            })
        .set(Math.round(samplesPerSec));
  }

  /**
   * The job's workers taking part now, published by the node hosting its coordinator (so the
   * series' instance says where the coordinator is).
   */
  void jobWorkers(String jobId, int workers) {
    jobWorkers
        .computeIfAbsent(
            jobId,
            id -> {
              AtomicLong holder = new AtomicLong();
              registry.gauge(
                  "anvil.job.workers",
                  io.micrometer.core.instrument.Tags.of("job", id),
                  holder,
                  AtomicLong::get);
              return holder;
            })
        .set(workers);
  }

  /** A finished job's gauges go (so that finished jobs do not pile up in the registry). */
  void jobEnded(String jobId) {
    if (samplesPerSecond.remove(jobId) != null) {
      registry
          .find("anvil.samples.per.second")
          .tag("job", jobId)
          .meters()
          .forEach(registry::remove);
    }
    if (jobWorkers.remove(jobId) != null) {
      registry.find("anvil.job.workers").tag("job", jobId).meters().forEach(registry::remove);
    }
  }

  void redispatched(long treeNodes) {
    redispatched.increment(treeNodes);
  }

  void lateResult() {
    late.increment();
  }

  void rejectedResult() {
    rejected.increment();
  }

  void nodeLost() {
    nodesLost.increment();
  }

  void recovered(String kind, long recoveryMillis, long stallMillis) {
    Timer.builder("anvil.recovery.time")
        .description("Time from a fault's detection to the next" + " durable round")
        .tag("kind", kind)
        .register(registry)
        .record(Duration.ofMillis(recoveryMillis));
    Timer.builder("anvil.recovery.stall")
        .description(
            "Gap in committed rounds across a fault:"
                + " the last commit before it to the first durable one after")
        .tag("kind", kind)
        .register(registry)
        .record(Duration.ofMillis(Math.max(0, stallMillis)));
  }

  void checkpointWritten(long nanos, long bytes) {
    checkpointTime.record(Duration.ofNanos(nanos));
    checkpointBytes.record(bytes);
  }

  /** A written checkpoint's journal event is durable. */
  void checkpointCommitted() {
    checkpointsCommitted.increment();
  }

  /** A checkpoint was not written (its encoding or store failed). */
  void checkpointWriteFailed() {
    checkpointWriteFailures.increment();
  }

  void journalError() {
    journalErrors.increment();
  }

  /** For tests: the registry's meters by name. */
  MeterRegistry meters() {
    return registry;
  }
}
