package dev.anvil.coordinator;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.checkpoint.CorruptCheckpointException;
import dev.anvil.core.fault.FaultHooks;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.persistence.CheckpointRepository;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import dev.anvil.persistence.DatabaseException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The coordinator's blocking checkpoint work over a {@link CheckpointRepository}: restore, write,
 * import, export and delete. Every method blocks: the actor runs them on the blocking dispatcher
 * and gets the answer as a message. The repository is opened on first use.
 */
final class CheckpointIo implements AutoCloseable {
  /** The newest checkpoint that verified (null: none did), and why newer ones were skipped. */
  record Restore(Checkpoint checkpoint, List<RoundGradient> gradients, List<String> skipped) {}

  /** A stored checkpoint that matched its journaled checksum and decoded. */
  record Verified(CheckpointCommitted ref, byte[] bytes, Checkpoint checkpoint) {}

  /** An import's checkpoint, checked against this cluster's data and kernel, and stored. */
  record Imported(Checkpoint checkpoint, CheckpointCommitted ref, PreparedJob prepared) {}

  private final String jobId;
  private final java.util.function.Supplier<CheckpointRepository> open;
  private CheckpointRepository repository;

  CheckpointIo(String jobId, java.util.function.Supplier<CheckpointRepository> open) {
    this.jobId = jobId;
    this.open = open;
  }

  private synchronized CheckpointRepository repository() {
    if (repository == null) {
      repository = open.get();
    }
    return repository;
  }

  /**
   * The newest of {@code newestFirst} that verifies and was made on data with {@code fingerprint},
   * and (incremental mode: {@code logged}) the logged gradients that continue it without a gap up
   * to round {@code until}.
   */
  Restore restore(
      List<CheckpointCommitted> newestFirst, String fingerprint, boolean logged, long until) {
    List<String> skipped = new ArrayList<>();
    Verified v =
        newestVerified(
            newestFirst,
            c ->
                c.dataFingerprint().equals(fingerprint)
                    ? null
                    : "made with data fingerprint "
                        + c.dataFingerprint()
                        + ", not this data's "
                        + fingerprint,
            skipped);
    long after = v == null ? 0 : v.checkpoint().round();
    List<RoundGradient> gradients =
        logged ? contiguous(repository().readGradients(jobId, after + 1, until), after) : List.of();
    return new Restore(v == null ? null : v.checkpoint(), gradients, skipped);
  }

  /** The gradients that continue round {@code after} without a gap (the rest is recomputed). */
  static List<RoundGradient> contiguous(List<RoundGradient> gradients, long after) {
    List<RoundGradient> out = new ArrayList<>();
    for (RoundGradient g : gradients) {
      if (g.round() != after + out.size() + 1) {
        break;
      }
      out.add(g);
    }
    return out;
  }

  /** The newest of {@code newestFirst} that verifies; null with the reasons in {@code why}. */
  Verified newestVerified(List<CheckpointCommitted> newestFirst, List<String> why) {
    return newestVerified(newestFirst, c -> null, why);
  }

  /**
   * The first of {@code refs} whose bytes match the journaled checksum, decode, and have no {@code
   * problem} (null: none); each one passed over is described in {@code skipped}. Null when none
   * qualifies.
   */
  private Verified newestVerified(
      List<CheckpointCommitted> refs, Function<Checkpoint, String> problem, List<String> skipped) {
    for (CheckpointCommitted ref : refs) {
      String why;
      try {
        byte[] bytes = repository().read(jobId, ref.round());
        if (bytes == null) {
          throw new CorruptCheckpointException("missing from " + ref.location());
        }
        String sum = CheckpointFormat.checksum(bytes);
        if (!sum.equals(ref.checksum())) {
          throw new CorruptCheckpointException(
              "its SHA-256 is "
                  + sum
                  + " but the journal"
                  + " recorded "
                  + ref.checksum()
                  + " ("
                  + bytes.length
                  + " bytes, "
                  + ref.bytes()
                  + " recorded)");
        }
        Checkpoint c = CheckpointFormat.decode(bytes);
        why = problem.apply(c);
        if (why == null) {
          return new Verified(ref, bytes, c);
        }
      } catch (CorruptCheckpointException | DatabaseException e) {
        why = e.getMessage();
      }
      skipped.add("round " + ref.round() + ": " + why);
    }
    return null;
  }

  /** Encodes and stores {@code checkpoint}; the reference to journal, written by {@code epoch}. */
  CheckpointCommitted write(Checkpoint checkpoint, long epoch) {
    long round = checkpoint.round();
    CheckpointFormat.Encoded encoded = CheckpointFormat.encodeWithChecksum(checkpoint);
    // held up by the fault hook (chaos runs only; on the blocking pool)
    FaultHooks.stall(FaultHooks.installed().checkpointStallMillis(jobId, round));
    var stored = repository().write(jobId, round, encoded.bytes(), encoded.checksum());
    return new CheckpointCommitted(
        round, stored.location(), encoded.checksum(), encoded.bytes().length, epoch);
  }

  /**
   * Checks an imported checkpoint {@code c} (its file's {@code bytes}) against the data and kernel
   * here and stores it. Throws {@link IllegalArgumentException} with the reason when the parameters
   * would not continue the same run.
   */
  Imported importChecked(Checkpoint c, byte[] bytes, SpecRules rules) {
    JobSpec imported = JobSpecParser.parseUntrusted(c.spec(), "the checkpoint's job", rules);
    PreparedJob p = PreparedJob.prepare(imported, "the checkpoint's job", rules);
    if (!p.dataFingerprint().equals(c.dataFingerprint())) {
      throw new IllegalArgumentException(
          "the checkpoint was made on data with fingerprint "
              + c.dataFingerprint()
              + " but the data here ("
              + imported.data()
              + ") has"
              + " fingerprint "
              + p.dataFingerprint()
              + ": the parameters would not continue the"
              + " same run");
    }
    if (!p.kernel().name().equals(c.kernel())) {
      throw new IllegalArgumentException(
          "the checkpoint was computed with kernel "
              + c.kernel()
              + " but this cluster uses kernel "
              + p.kernel().name()
              + ": the bits would differ;"
              + " set kernel = "
              + c.kernel()
              + " on this cluster's nodes or import where it is"
              + " available");
    }
    String sum = CheckpointFormat.checksum(bytes);
    var stored = repository().write(jobId, c.round(), bytes, sum);
    return new Imported(
        c, new CheckpointCommitted(c.round(), stored.location(), sum, bytes.length, 0), p);
  }

  /** Logs incremental mode's gradients. */
  void logGradients(List<RoundGradient> gradients) {
    repository().writeGradients(jobId, gradients);
  }

  /** Retention: deletes checkpoints (and logged gradients) before the oldest kept round. */
  void deleteBefore(long oldestKept, boolean logged) {
    repository().deleteBefore(jobId, oldestKept);
    if (logged) {
      repository().deleteGradientsThrough(jobId, oldestKept);
    }
  }

  /** A finished job is never replayed: its gradient log goes (its checkpoints stay). */
  void forgetGradients() {
    repository().deleteGradientsThrough(jobId, Long.MAX_VALUE);
  }

  @Override
  public synchronized void close() {
    if (repository != null) {
      repository.close();
    }
  }
}
