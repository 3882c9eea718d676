package dev.anvil.bench;

import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecWriter;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingState;
import dev.anvil.persistence.CheckpointStore;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.EmbeddedDatabase;
import dev.anvil.persistence.JournalSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Part 1 of CheckpointBench, what a checkpoint costs directly: in this JVM, against an {@link
 * EmbeddedDatabase} in a temp folder with the schema of {@link JournalSchema}, a {@link
 * CheckpointStore} with bytes in the table and one with bytes as files. Parameters, optimizer slots
 * and the gradient hold pseudo-random values (zeros would flatter any compression). Each repetition
 * does what the coordinator does:
 *
 * <ul>
 *   <li>snapshot: {@link TrainingState#copy()}, {@link CheckpointFormat#encodeWithChecksum} and
 *       {@link CheckpointStore#write} of a new round, then (untimed) {@code deleteBefore} keeping 3
 *       rows, like {@code anvil.checkpoint.keep = 3}; apart, the same bytes sent as a query
 *       parameter without storing them ({@code SELECT octet_length(?)}) and written by the file
 *       store;
 *   <li>incremental: a clone of the gradient (the coordinator's copy before the optimizer step),
 *       {@link CheckpointStore#writeGradients} of one round and of a batch of {@code
 *       --gradient-batch} rounds (at most 16 MiB, the coordinator's limit per write), then
 *       (untimed) {@code deleteGradientsThrough}.
 * </ul>
 *
 * The first repetition reads back what it wrote and fails the benchmark if it differs.
 */
final class DirectCheckpointCost {
  /** JobCoordinator's GRADIENT_BYTES_PER_WRITE: the most gradient bytes it logs at once. */
  private static final long GRADIENT_BYTES_PER_WRITE = 16L << 20;

  /** Per-step times of the repetitions after the warm-up, ms. */
  static final class Times {
    private final Map<String, List<Double>> ms = new LinkedHashMap<>();

    void add(String step, long nanos) {
      ms.computeIfAbsent(step, k -> new ArrayList<>()).add(nanos / 1e6);
    }

    List<Double> all(String step) {
      return ms.getOrDefault(step, List.of());
    }

    double median(String step) {
      return Stats.median(all(step));
    }
  }

  /**
   * One model's figures: a snapshot of {@code bytes} (steps copy, encode, write, total, send, file)
   * and the gradient log, {@code gradientBytes} a round, {@code batch} rounds a write (steps clone,
   * one, batch).
   */
  record Result(
      int params, long bytes, Times snapshot, long gradientBytes, int batch, Times gradients) {}

  private final CheckpointBenchOptions options;
  private final CheckpointStore store;
  private final CheckpointStore files;
  private final Connection send;

  private DirectCheckpointCost(
      CheckpointBenchOptions options,
      CheckpointStore store,
      CheckpointStore files,
      Connection send) {
    this.options = options;
    this.store = store;
    this.files = files;
    this.send = send;
  }

  /** Measures every model of {@code options}, saying each one's figures as they come. */
  static Map<BenchModel, Result> measure(CheckpointBenchOptions options)
      throws IOException, SQLException {
    Map<BenchModel, Result> out = new LinkedHashMap<>();
    Path dir = Files.createTempDirectory("anvil-bench-checkpoint-db");
    long t0 = System.nanoTime();
    EmbeddedDatabase database = EmbeddedDatabase.start(dir.resolve("postgres"));
    try {
      DatabaseSettings db = database.settings(true);
      JournalSchema.createIfMissing(db);
      Console.say(
          "embedded PostgreSQL up in %.1f s; %s",
          (System.nanoTime() - t0) / 1e9, serverSettings(db));
      try (CheckpointStore store = new CheckpointStore(db);
          CheckpointStore files = new CheckpointStore(db, dir.resolve("checkpoints"));
          Connection send = db.connect()) {
        DirectCheckpointCost cost = new DirectCheckpointCost(options, store, files, send);
        for (BenchModel m : options.models()) {
          Result r = cost.new ModelCost(m).measure();
          out.put(m, r);
          say(m, r);
        }
      }
    } finally {
      database.close();
      Console.deleteTree(dir);
    }
    return out;
  }

  private static void say(BenchModel m, Result r) {
    Times s = r.snapshot();
    Times g = r.gradients();
    Console.say(
        "direct %-5s snapshot: params %,d  bytes %,d  copy %.3f  encode+sha256"
            + " %.3f  write %.3f  total %.3f ms (send only %.3f; file store write %.3f); write"
            + " each rep %s",
        m.name(),
        r.params(),
        r.bytes(),
        s.median("copy"),
        s.median("encode"),
        s.median("write"),
        s.median("total"),
        s.median("send"),
        s.median("file"),
        Console.list(s.all("write"), "%.1f"));
    Console.say(
        "direct %-5s gradient log: %,d bytes a round  clone %.3f  one round %.3f"
            + "  %d rounds %.3f ms (%.3f ms a round); batch each rep %s",
        m.name(),
        r.gradientBytes(),
        g.median("clone"),
        g.median("one"),
        r.batch(),
        g.median("batch"),
        g.median("batch") / r.batch(),
        Console.list(g.all("batch"), "%.1f"));
  }

  /** One model's repetitions: the state they write and what they measured. */
  private final class ModelCost {
    private final String jobId;
    private final String specText;
    private final PreparedJob job;
    private final float[] params;
    private final float[][] slots;
    private final float[] gradient;
    private final int batch;
    private final Times snapshot = new Times();
    private final Times gradients = new Times();
    private long bytes;

    /** The newest round of the gradient log. */
    private long logged;

    ModelCost(BenchModel m) {
      JobSpec spec =
          m.spec(
              "direct-" + m.name(), m.rounds(), new CheckpointMode(50, false), options.optimizer());
      job = PreparedJob.prepare(spec, "bench");
      specText = JobSpecWriter.toHocon(spec);
      jobId = "direct-" + m.name() + "-" + ProcessHandle.current().pid();
      TrainingState initial = job.initialState();
      SplittableRandom random = new SplittableRandom(42);
      params = initial.params();
      slots = initial.optimizer().slots();
      for (float[] slot : slots) {
        fill(slot, random);
      }
      gradient = fill(new float[params.length], random);
      batch =
          (int)
              Math.max(
                  1,
                  Math.min(
                      options.gradientBatch(), GRADIENT_BYTES_PER_WRITE / (4L * gradient.length)));
    }

    Result measure() throws SQLException {
      for (int r = 0; r < options.directWarmup() + options.directReps(); r++) {
        boolean timed = r >= options.directWarmup();
        TrainingState state = snapshot(50L * (r + 1), timed);
        logGradients(timed);
        if (r == 0) {
          checkReadBack(state);
        }
        store.deleteGradientsThrough(jobId, logged); // untimed, as deleteBefore
      }
      store.deleteBefore(jobId, Long.MAX_VALUE);
      return new Result(params.length, bytes, snapshot, 4L * gradient.length, batch, gradients);
    }

    /** Copies, encodes and writes the state of {@code round}; returns that state. */
    private TrainingState snapshot(long round, boolean timed) throws SQLException {
      TrainingState state = new TrainingState(round, params, new OptimizerState(round, slots));
      long a = System.nanoTime();
      TrainingState copied = state.copy();
      long b = System.nanoTime();
      CheckpointFormat.Encoded encoded =
          CheckpointFormat.encodeWithChecksum(
              new Checkpoint(
                  jobId,
                  specText,
                  ClusterCheckpointCost.WORKERS,
                  job.dataFingerprint(),
                  job.kernel().name(),
                  copied,
                  1.0,
                  List.of(),
                  0,
                  0));
      long c = System.nanoTime();
      store.write(jobId, round, encoded.bytes(), encoded.checksum());
      long d = System.nanoTime();
      store.deleteBefore(jobId, round - 100); // keep 3, like anvil.checkpoint.keep
      long e = System.nanoTime();
      files.write(jobId + "-files", round, encoded.bytes(), encoded.checksum());
      long f = System.nanoTime();
      files.deleteBefore(jobId + "-files", round - 100);
      bytes = encoded.bytes().length;
      if (timed) {
        snapshot.add("copy", b - a);
        snapshot.add("encode", c - b);
        snapshot.add("write", d - c);
        snapshot.add("total", d - a);
        snapshot.add("send", sendOnly(send, encoded.bytes()));
        snapshot.add("file", f - e);
      }
      return state;
    }

    /** Logs the gradient of one round, then of a batch of rounds. */
    private void logGradients(boolean timed) {
      long a = System.nanoTime();
      float[] copy = gradient.clone();
      long b = System.nanoTime();
      store.writeGradients(jobId, List.of(new RoundGradient(++logged, copy, 1.0, 128)));
      long c = System.nanoTime();
      List<RoundGradient> rounds = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        rounds.add(new RoundGradient(++logged, gradient, 1.0, 128));
      }
      long d = System.nanoTime();
      store.writeGradients(jobId, rounds);
      long e = System.nanoTime();
      if (timed) {
        gradients.add("clone", b - a);
        gradients.add("one", c - b);
        gradients.add("batch", e - d);
      }
    }

    /** Fails unless the checkpoint {@code state} and the newest gradient read back equal. */
    private void checkReadBack(TrainingState state) {
      Checkpoint back = CheckpointFormat.decode(store.read(jobId, state.round()));
      List<RoundGradient> read = store.readGradients(jobId, logged, logged);
      if (!Arrays.equals(back.state().params(), state.params())
          || !back.state().optimizer().equals(state.optimizer())
          || read.size() != 1
          || !Arrays.equals(read.get(0).gradient(), gradient)) {
        throw new IllegalStateException("what was read back differs from what was written");
      }
    }
  }

  private static float[] fill(float[] values, SplittableRandom random) {
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextDouble(-1, 1) * 1e-2);
    }
    return values;
  }

  /** Nanoseconds to send {@code bytes} as a bytea parameter and get its length back. */
  private static long sendOnly(Connection c, byte[] bytes) throws SQLException {
    long a = System.nanoTime();
    try (PreparedStatement p = c.prepareStatement("SELECT octet_length(?)")) {
      p.setBytes(1, bytes);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next() || r.getLong(1) != bytes.length) {
          throw new IllegalStateException("PostgreSQL got a different number of bytes");
        }
      }
    }
    return System.nanoTime() - a;
  }

  private static String serverSettings(DatabaseSettings db) {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String name :
          List.of(
              "server_version",
              "synchronous_commit",
              "fsync",
              "full_page_writes",
              "shared_buffers")) {
        try (ResultSet r = s.executeQuery("SHOW " + name)) {
          out.add(name + "=" + (r.next() ? r.getString(1) : "?"));
        }
      }
      try (ResultSet r =
          s.executeQuery(
              "SELECT attrelid::regclass, attstorage FROM"
                  + " pg_attribute WHERE attname = 'data' AND attrelid IN ('"
                  + CheckpointStore.TABLE
                  + "'::regclass, '"
                  + CheckpointStore.GRADIENTS
                  + "'::regclass)")) {
        while (r.next()) { // e = EXTERNAL: out of line, no compression attempt
          out.add(r.getString(1) + ".data storage=" + r.getString(2));
        }
      }
    } catch (SQLException e) {
      out.add("settings unreadable: " + e.getMessage());
    }
    return String.join(" ", out);
  }
}
