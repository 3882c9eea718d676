package dev.anvil.coordinator;

import dev.anvil.persistence.CheckpointRepository;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import dev.anvil.persistence.CheckpointStore.Stored;
import dev.anvil.persistence.DatabaseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link CheckpointRepository} in memory, for tests of the coordinator: the checkpoints of all
 * jobs, as {@code CheckpointStore} keeps them (one per job and round, a later write of a round
 * replacing the earlier one), and the logged gradients. It is shared by every coordinator
 * incarnation a test starts (it plays the database), so {@link #close()} keeps the contents.
 *
 * <p>Thread-safe: every method holds the instance's lock (a held write waits without it). Faults
 * for tests: the next writes fail ({@link #failNextWrites}), a write waits ({@link #holdWrite}), a
 * stored checkpoint gets a flipped bit ({@link #corrupt}) or disappears ({@link #remove}). A failed
 * call throws {@link DatabaseException}, as the real store does.
 */
final class InMemoryCheckpointRepository implements CheckpointRepository {
  /** A stored checkpoint: its bytes (owned here) and the SHA-256 the writer gave. */
  private record Entry(byte[] bytes, String sha256) {}

  private final Map<String, NavigableMap<Long, Entry>> checkpoints = new HashMap<>();
  private final Map<String, NavigableMap<Long, RoundGradient>> gradients = new HashMap<>();
  private final Map<String, CountDownLatch> held = new HashMap<>();
  private int failingWrites;
  private int writes;

  /** Every checkpoint ever written, as "job/round". */
  private final java.util.Set<String> everWritten = new java.util.HashSet<>();

  /** Where a checkpoint is, as the journal records it. */
  static String location(String jobId, long round) {
    return "memory:" + jobId + "/" + round;
  }

  @Override
  public Stored write(String jobId, long round, byte[] bytes, String sha256) {
    CountDownLatch hold;
    synchronized (this) {
      hold = held.get(jobId + "/" + round);
    }
    if (hold != null) {
      try {
        if (!hold.await(30, TimeUnit.SECONDS)) {
          throw new DatabaseException("a held write was not released within 30 s", null);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DatabaseException("interrupted while held", e);
      }
    }
    return store(jobId, round, bytes, sha256);
  }

  private synchronized Stored store(String jobId, long round, byte[] bytes, String sha256) {
    if (failingWrites > 0) {
      failingWrites--;
      throw new DatabaseException(
          "cannot write the checkpoint of round "
              + round
              + " of job "
              + jobId
              + ": a failure injected by the test",
          null);
    }
    writes++;
    checkpointsOf(jobId).put(round, new Entry(bytes.clone(), sha256));
    everWritten.add(jobId + "/" + round);
    notifyAll();
    return new Stored(jobId, round, sha256, bytes.length, location(jobId, round));
  }

  @Override
  public synchronized byte[] read(String jobId, long round) {
    Entry e = checkpointsOf(jobId).get(round);
    return e == null ? null : e.bytes().clone();
  }

  @Override
  public synchronized int deleteBefore(String jobId, long round) {
    return clear(checkpointsOf(jobId).headMap(round, false));
  }

  @Override
  public synchronized void writeGradients(String jobId, List<RoundGradient> rounds) {
    NavigableMap<Long, RoundGradient> log = gradientsOf(jobId);
    for (RoundGradient g : rounds) {
      log.put(
          g.round(), new RoundGradient(g.round(), g.gradient().clone(), g.lossSum(), g.samples()));
    }
  }

  @Override
  public synchronized List<RoundGradient> readGradients(String jobId, long from, long to) {
    if (from > to) {
      return List.of();
    }
    List<RoundGradient> out = new ArrayList<>();
    for (RoundGradient g : gradientsOf(jobId).subMap(from, true, to, true).values()) {
      out.add(new RoundGradient(g.round(), g.gradient().clone(), g.lossSum(), g.samples()));
    }
    return out;
  }

  @Override
  public synchronized int deleteGradientsThrough(String jobId, long round) {
    return clear(gradientsOf(jobId).headMap(round, true));
  }

  /** Empties {@code rounds} (a view of a job's map); returns how many there were. */
  private static int clear(Map<Long, ?> rounds) {
    int deleted = rounds.size();
    rounds.clear();
    return deleted;
  }

  /** Nothing to release: the contents stay for the next incarnation, as in a database. */
  @Override
  public void close() {}

  /**
   * The write of {@code round}'s checkpoint of job {@code jobId} waits (off the lock, at most 30 s)
   * until {@link #releaseWrite}: a slow database.
   */
  synchronized void holdWrite(String jobId, long round) {
    held.put(jobId + "/" + round, new CountDownLatch(1));
  }

  synchronized void releaseWrite(String jobId, long round) {
    held.get(jobId + "/" + round).countDown();
  }

  /** The next {@code n} checkpoint writes fail (with {@link DatabaseException}). */
  synchronized void failNextWrites(int n) {
    failingWrites = n;
  }

  /**
   * Waits until the checkpoint of {@code round} of job {@code jobId} has been written (even if
   * retention deleted it since); false when {@code timeout} passed first.
   */
  synchronized boolean awaitWritten(String jobId, long round, java.time.Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!everWritten.contains(jobId + "/" + round)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return true;
  }

  /** Checkpoint writes that succeeded so far, over all jobs. */
  synchronized int writes() {
    return writes;
  }

  /** The rounds of job {@code jobId}'s stored checkpoints, oldest first. */
  synchronized SortedSet<Long> rounds(String jobId) {
    return new TreeSet<>(checkpointsOf(jobId).keySet());
  }

  /** The SHA-256 stored with a checkpoint (as its writer gave it), or null if there is none. */
  synchronized String checksum(String jobId, long round) {
    Entry e = checkpointsOf(jobId).get(round);
    return e == null ? null : e.sha256();
  }

  /** The rounds of job {@code jobId}'s logged gradients, oldest first. */
  synchronized SortedSet<Long> gradientRounds(String jobId) {
    return new TreeSet<>(gradientsOf(jobId).keySet());
  }

  /**
   * Flips one bit in the middle of a stored checkpoint (its recorded SHA-256 stays), as a disk or a
   * bad copy would. Throws when there is no such checkpoint.
   */
  synchronized void corrupt(String jobId, long round) {
    Entry e = existing(jobId, round);
    e.bytes()[e.bytes().length / 2] ^= 0x10;
  }

  /** Deletes a stored checkpoint behind the coordinator's back. */
  synchronized void remove(String jobId, long round) {
    existing(jobId, round);
    checkpointsOf(jobId).remove(round);
  }

  private Entry existing(String jobId, long round) {
    Entry e = checkpointsOf(jobId).get(round);
    if (e == null) {
      throw new IllegalArgumentException(
          "job "
              + jobId
              + " has no checkpoint of round "
              + round
              + " here; stored: "
              + checkpointsOf(jobId).keySet());
    }
    return e;
  }

  private NavigableMap<Long, Entry> checkpointsOf(String jobId) {
    return checkpoints.computeIfAbsent(jobId, k -> new TreeMap<>());
  }

  private NavigableMap<Long, RoundGradient> gradientsOf(String jobId) {
    return gradients.computeIfAbsent(jobId, k -> new TreeMap<>());
  }
}
