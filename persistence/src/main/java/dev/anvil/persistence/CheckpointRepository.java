package dev.anvil.persistence;

import dev.anvil.persistence.CheckpointStore.RoundGradient;
import dev.anvil.persistence.CheckpointStore.Stored;
import java.util.List;

/**
 * Where a coordinator keeps its jobs' checkpoint bytes and, in incremental mode, their logged
 * gradients. {@link CheckpointStore} is the one the cluster uses (PostgreSQL, optionally with the
 * bytes in files); tests use an in-memory one. Calls are blocking: make them off actor threads.
 */
public interface CheckpointRepository extends AutoCloseable {
  /** Stores the checkpoint of {@code round} (replacing one stored before for that round). */
  Stored write(String jobId, long round, byte[] bytes, String sha256);

  /** The bytes of the checkpoint of {@code round}; null when none is stored. */
  byte[] read(String jobId, long round);

  /** Deletes the job's checkpoints of rounds before {@code round}; returns how many. */
  int deleteBefore(String jobId, long round);

  /** Logs the reduced gradients of {@code rounds} (a round logged before is replaced). */
  void writeGradients(String jobId, List<RoundGradient> rounds);

  /** The logged gradients of rounds {@code from..to}, in round order (gaps are left out). */
  List<RoundGradient> readGradients(String jobId, long from, long to);

  /** Deletes the logged gradients of rounds up to {@code round}; returns how many. */
  int deleteGradientsThrough(String jobId, long round);

  @Override
  void close();
}
