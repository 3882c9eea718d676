package dev.anvil.coordinator;

import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How computed rounds become durable: they are batched into journal writes (one in flight, at most
 * one every {@code min-write-interval} while training, at most {@code max-rounds-per-write} rounds
 * or, in incremental mode, {@value #GRADIENT_BYTES_PER_WRITE} bytes of gradients each), in
 * incremental mode after their gradients are in the log; computing stalls when too many rounds
 * wait, and a journal that does not answer makes the job degraded until it does. Pure: {@link
 * #flush} returns what to do, the actor does it.
 */
final class CommitPipeline {
  /** Incremental mode: most bytes of gradients held in memory, and written in one batch. */
  static final long GRADIENT_BYTES_AHEAD = 64L << 20;

  static final long GRADIENT_BYTES_PER_WRITE = 16L << 20;

  /** What the actor does to flush. */
  sealed interface Flush {}

  /** Nothing now (a write is in flight, nothing waits, or a flush is scheduled). */
  record Wait() implements Flush {}

  /** Flush again after {@code delay} (the write interval). */
  record Later(Duration delay) implements Flush {}

  /** Journal {@code batch}; in incremental mode log {@code gradients} first (else empty). */
  record Write(List<RoundCommitted> batch, List<RoundGradient> gradients) implements Flush {}

  /**
   * Rounds became durable: the newest, how many are new, the journal's time of each (when asked
   * for), and the journal outage this ends (null: none).
   */
  record Durable(
      RoundCommitted newest, long newly, Map<Long, Long> committedMillis, Outage outage) {}

  /** The journal recorded no rounds from {@code sinceMillis}; its last ack before was then. */
  record Outage(long sinceMillis, long lastAckMillis) {}

  private final CoordinatorSettings settings;
  private final long parameterCount;
  private final boolean incremental;
  private final List<RoundCommitted> unrecorded = new ArrayList<>();

  /** Incremental mode: gradients of rounds computed and not yet in the log. */
  private final List<RoundGradient> unlogged = new ArrayList<>();

  /** Training time (ns) when each round not yet durable was computed, for progress reports. */
  private final TreeMap<Long, Long> trainNanosAt = new TreeMap<>();

  private boolean writing;
  private boolean scheduled;
  private long sentNanos;
  private long durableRound;
  private boolean degraded;
  private long degradedSinceMillis;
  private long lastAckMillis;

  CommitPipeline(CoordinatorSettings settings, long parameterCount, boolean incremental) {
    this.settings = settings;
    this.parameterCount = parameterCount;
    this.incremental = incremental;
  }

  /** Round {@code r} was computed after {@code trainNanos} of training; its gradient if logged. */
  void computed(RoundCommitted r, long trainNanos) {
    trainNanosAt.put(r.round(), trainNanos);
    unrecorded.add(r);
  }

  /** Incremental mode: the reduced gradient of a new round, to log before it is journaled. */
  void toLog(RoundGradient g) {
    unlogged.add(g);
  }

  /** What to do to journal waiting rounds; {@code throttled}: keep the write interval. */
  Flush flush(long nowNanos, boolean throttled) {
    if (writing || unrecorded.isEmpty() || scheduled) {
      return new Wait();
    }
    long sinceLast = nowNanos - sentNanos;
    long interval = settings.minWriteInterval().toNanos();
    if (throttled && sinceLast < interval) {
      scheduled = true;
      return new Later(Duration.ofNanos(interval - sinceLast));
    }
    int perWrite = settings.maxRoundsPerWrite();
    if (incremental) {
      perWrite =
          (int) Math.max(1, Math.min(perWrite, GRADIENT_BYTES_PER_WRITE / (4L * parameterCount)));
    }
    List<RoundCommitted> batch =
        List.copyOf(unrecorded.subList(0, Math.min(unrecorded.size(), perWrite)));
    writing = true;
    sentNanos = nowNanos;
    long last = batch.get(batch.size() - 1).round();
    return new Write(
        batch, incremental ? unlogged.stream().filter(g -> g.round() <= last).toList() : List.of());
  }

  /** A scheduled flush is due (or given up: then call with nothing waiting). */
  void tick() {
    scheduled = false;
  }

  /** Whether a flush waits for the write interval. */
  boolean scheduled() {
    return scheduled;
  }

  /** The gradients of rounds up to {@code last} are in the log. */
  void logged(long last) {
    unlogged.removeIf(x -> x.round() <= last);
  }

  /** The gradient log could not be written: the batch goes again after a retry delay. */
  Duration logFailed() {
    writing = false;
    scheduled = true;
    return Duration.ofSeconds(1);
  }

  /** The write in flight was not answered in time: the rounds go again. */
  void unanswered() {
    writing = false;
  }

  /**
   * The journal acknowledged rounds up to {@code last} at {@code nowMillis}; the write took {@code
   * nowNanos} minus when it was sent. Returns what became durable, or null if nothing new did.
   * {@code keepTimes}: a recovery waits for a round, so the journal's times are kept.
   */
  Durable acknowledged(long last, long nowMillis, boolean keepTimes) {
    writing = false;
    long previousAck = lastAckMillis;
    lastAckMillis = nowMillis;
    RoundCommitted newest = null;
    Map<Long, Long> committedMillis = keepTimes ? new HashMap<>() : Map.of();
    while (!unrecorded.isEmpty() && unrecorded.get(0).round() <= last) {
      newest = unrecorded.remove(0);
      if (keepTimes) {
        committedMillis.put(newest.round(), newest.epochMillis());
      }
    }
    if (newest == null || last <= durableRound) {
      return null;
    }
    long newly = last - durableRound;
    durableRound = last;
    Outage outage = degraded ? new Outage(degradedSinceMillis, previousAck) : null;
    degraded = false;
    return new Durable(newest, newly, committedMillis, outage);
  }

  /** When the write in flight was sent (System.nanoTime). */
  long sentNanos() {
    return sentNanos;
  }

  /** Training time when round {@code round} was computed; forgets older rounds'. */
  long trainNanosAt(long round, long otherwise) {
    Long nanos = trainNanosAt.remove(round);
    trainNanosAt.headMap(round).clear();
    return nanos == null ? otherwise : nanos;
  }

  /**
   * The journal is not keeping up: whether this starts an outage (it is dated from the unanswered
   * write's sending); false while one goes on.
   */
  boolean degrade(long nowMillis, long nowNanos) {
    if (degraded) {
      return false;
    }
    degraded = true;
    degradedSinceMillis = nowMillis - (nowNanos - sentNanos) / 1_000_000;
    return true;
  }

  long durableRound() {
    return durableRound;
  }

  /** The replay of committed rounds ended: they are durable already. */
  void replayedThrough(long round) {
    durableRound = round;
  }

  /** Whether computing must wait: {@code done} is too far ahead of the journal. */
  boolean tooFarAhead(long done) {
    return done - durableRound >= roundsAhead();
  }

  /**
   * Most rounds computed past the newest durable one. In incremental mode each holds a gradient in
   * memory until logged, so the bound is also {@value #GRADIENT_BYTES_AHEAD} bytes of them.
   */
  long roundsAhead() {
    if (!incremental) {
      return settings.maxRoundsAhead();
    }
    long perRound = 4L * parameterCount;
    return Math.max(2, Math.min(settings.maxRoundsAhead(), GRADIENT_BYTES_AHEAD / perRound));
  }

  /** Forgets what the job no longer needs (it ended). */
  void clear() {
    unrecorded.clear();
    unlogged.clear();
    trainNanosAt.clear();
  }
}
