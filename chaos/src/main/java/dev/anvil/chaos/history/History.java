package dev.anvil.chaos.history;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What happened in a chaos run, in wall-clock order: every fault operation the runner attempted and
 * how it went, the progress the client heard (round and loss over time, for the charts), and, read
 * back from the journal at the end, every committed round. The checker judges this record alone.
 * Thread-safe: the runner, its schedule and the job's listener all append.
 */
public final class History {
  /** Kinds of fault operations. */
  public enum Type {
    /** A fault was injected. */
    INJECT,
    /** A fault was healed (a paused node resumed, a killed node restarted, ...). */
    HEAL,
    /** A fault could not be injected or healed: the run cannot be judged on it. */
    FAIL,
    /** Something worth knowing, no fault (waits, the job's end). */
    INFO
  }

  /** One fault operation: at {@code timeMillis}, when the client had heard round {@code round}. */
  public record Op(
      long timeMillis, Type type, String fault, String target, long round, String detail) {}

  /** Progress the client heard: round {@code round} committed with this mean loss. */
  public record Sample(long timeMillis, long round, double loss) {}

  /**
   * A round as the journal holds it: committed by the coordinator of {@code epoch}, at {@code
   * timeMillis} by its clock, stored at {@code sequence}.
   */
  public record Commit(long sequence, long round, long epoch, long timeMillis, double loss) {}

  /**
   * One journal event of the job, in sequence order: its kind and the coordinator epoch that wrote
   * it ("coordinator-started" events open an epoch; every later event must come from that epoch or
   * a newer one: a single writer).
   */
  public record Written(long sequence, String kind, long epoch) {}

  private final long startMillis = System.currentTimeMillis();
  private final List<Op> ops = new ArrayList<>();
  private final List<Sample> samples = new ArrayList<>();
  private final Map<String, Long> newestSampled = new HashMap<>();
  private List<Commit> commits = List.of();
  private List<Written> written = List.of();
  private final List<Consumer<Op>> watchers = new CopyOnWriteArrayList<>();

  public long startMillis() {
    return startMillis;
  }

  /** Passes every fault operation added from now on to {@code watcher}, on the adding thread. */
  public void watch(Consumer<Op> watcher) {
    watchers.add(watcher);
  }

  public void add(Op op) {
    synchronized (this) {
      ops.add(op);
    }
    watchers.forEach(w -> w.accept(op));
  }

  public synchronized void sample(long round, double loss) {
    samples.add(new Sample(System.currentTimeMillis(), round, loss));
  }

  /**
   * Samples job {@code jobId}'s progress, unless the job had already reached {@code round}:
   * progress heard again after its coordinator restored a checkpoint is a replay, not progress, and
   * the charts show progress.
   */
  public synchronized void progress(String jobId, long round, double loss) {
    if (round > newestSampled.getOrDefault(jobId, 0L)) {
      newestSampled.put(jobId, round);
      sample(round, loss);
    }
  }

  /** What the journal holds, read back after the run: the rounds, and every event. */
  public synchronized void journal(List<Commit> commits, List<Written> written) {
    this.commits = List.copyOf(commits);
    this.written = List.copyOf(written);
  }

  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  public synchronized List<Sample> samples() {
    return List.copyOf(samples);
  }

  public synchronized List<Commit> commits() {
    return commits;
  }

  public synchronized List<Written> written() {
    return written;
  }
}
