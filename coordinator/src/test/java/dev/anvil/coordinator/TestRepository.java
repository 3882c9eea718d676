package dev.anvil.coordinator;

import dev.anvil.persistence.CheckpointRepository;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import dev.anvil.persistence.CheckpointStore.Stored;
import dev.anvil.persistence.DatabaseException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link CheckpointRepository} in memory for {@link CheckpointIoTest}: one job's checkpoints and
 * logged gradients by round, with bytes that a test may plant as they are ({@link #put}) and rounds
 * whose read fails as a database does ({@link #failReads}). Not thread-safe: the tests call it from
 * one thread.
 */
final class TestRepository implements CheckpointRepository {
  private final TreeMap<Long, byte[]> checkpoints = new TreeMap<>();
  private final TreeMap<Long, RoundGradient> gradients = new TreeMap<>();
  private final Set<Long> failingReads = new HashSet<>();
  private boolean closed;

  static String location(long round) {
    return "memory:" + round;
  }

  /** Stores {@code bytes} as the checkpoint of {@code round}, whatever they hold. */
  void put(long round, byte[] bytes) {
    checkpoints.put(round, bytes.clone());
  }

  /** Reading the checkpoint of {@code round} throws, as a failing database does. */
  void failReads(long round) {
    failingReads.add(round);
  }

  /** The stored checkpoints' rounds, oldest first. */
  Set<Long> checkpointRounds() {
    return checkpoints.keySet();
  }

  /** The logged gradients by round. */
  Map<Long, RoundGradient> gradients() {
    return gradients;
  }

  boolean closed() {
    return closed;
  }

  @Override
  public Stored write(String jobId, long round, byte[] bytes, String sha256) {
    checkpoints.put(round, bytes.clone());
    return new Stored(jobId, round, sha256, bytes.length, location(round));
  }

  @Override
  public byte[] read(String jobId, long round) {
    if (failingReads.contains(round)) {
      throw new DatabaseException("cannot read the checkpoint of round " + round, null);
    }
    byte[] bytes = checkpoints.get(round);
    return bytes == null ? null : bytes.clone();
  }

  @Override
  public int deleteBefore(String jobId, long round) {
    var older = checkpoints.headMap(round);
    int n = older.size();
    older.clear();
    return n;
  }

  @Override
  public void writeGradients(String jobId, List<RoundGradient> rounds) {
    rounds.forEach(g -> gradients.put(g.round(), g));
  }

  @Override
  public List<RoundGradient> readGradients(String jobId, long from, long to) {
    return List.copyOf(gradients.subMap(from, true, to, true).values());
  }

  @Override
  public int deleteGradientsThrough(String jobId, long round) {
    var older = gradients.headMap(round, true);
    int n = older.size();
    older.clear();
    return n;
  }

  @Override
  public void close() {
    closed = true;
  }
}
