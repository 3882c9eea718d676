package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.JobSpecWriter;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingState;
import dev.anvil.persistence.CheckpointStore;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.EmbeddedDatabase;
import dev.anvil.persistence.JournalSchema;
import dev.anvil.runtime.LocalCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What checkpoints cost, snapshot and incremental mode: directly (in this JVM, against an
 * embedded PostgreSQL, next to {@code torch.save} of a same-size model) and as training time on
 * a cluster.
 *
 * <p>Three models on synthetic data (kernel native, batch 128, 16 logical shards, SGD lr 0.05
 * momentum 0.9 by default, so one optimizer slot; {@code --optimizer adam} gives two):
 * <b>small</b>, the project's small MLP, mlp [784, 128, 10] (101,770 parameters) on 40,000
 * samples x 784 features, 10 classes; <b>large</b>, mlp [784, 1024, 256, 10] (1,068,810
 * parameters) on the same data; and, only when asked for, <b>tiny</b>, mlp [32, 64, 8] (2,632
 * parameters) on 24,000 samples x 32 features, 8 classes (as {@code examples/synthetic-mlp.conf}),
 * whose sub-millisecond rounds make it the worst case for any fixed cost per checkpoint.
 *
 * <p>Part 1, <b>direct cost</b>: an {@link EmbeddedDatabase} in a temp folder with the schema of
 * {@link JournalSchema} and one {@link CheckpointStore}; parameters, optimizer slots and the
 * gradient hold pseudo-random values. Per repetition, as the coordinator does it:
 * <ul>
 *   <li>snapshot: {@link TrainingState#copy()}, {@link CheckpointFormat#encodeWithChecksum}
 *       and {@link CheckpointStore#write} of a new round, then (untimed) {@code deleteBefore}
 *       keeping 3 rows, like {@code anvil.checkpoint.keep = 3}; apart, the same bytes sent as a
 *       query parameter without storing them ({@code SELECT octet_length(?)});</li>
 *   <li>incremental: a clone of the gradient (the coordinator's copy before the optimizer
 *       step), {@link CheckpointStore#writeGradients} of one round and of a batch of
 *       {@code --gradient-batch} rounds (at most 16 MiB, the coordinator's limit per write),
 *       then (untimed) {@code deleteGradientsThrough}.</li>
 * </ul>
 * Medians over the repetitions after a warm-up. <b>torch.save</b> (when {@code /usr/bin/python3}
 * imports torch): the same layers as a {@code torch.nn.Sequential}, the same optimizer after one
 * step, {@code torch.save({model, optimizer state_dict})} to a BytesIO, a file, and a file with
 * fsync; OMP_NUM_THREADS=1.
 *
 * <p>Part 2, <b>training-time overhead</b>: a {@link LocalCluster} of 2 node JVMs x 1 worker
 * slot (as ClusterThroughputBench) at log level DEBUG, so that the coordinator's "checkpoint of
 * round R written, B bytes in T ms" lines can be read from the node logs. Each model's job runs
 * with {@link #MODES} (none, snapshot every 50, snapshot every 10, incremental every 50)
 * interleaved, R repeats, after untimed warm-up jobs (snapshot and incremental every 10).
 * Figure: the result's {@code trainSeconds} (sum of the round times). A job of N rounds
 * checkpoints at every multiple of K below N.
 *
 * <p>Usage: {@code CheckpointBench [--repeats R (3)] [--small-rounds N (2000)]
 * [--large-rounds N (300)] [--tiny-rounds N (5000)] [--warmup-small-rounds W (1000)]
 * [--warmup-large-rounds W (60)] [--warmup-tiny-rounds W (5000)]
 * [--direct-reps N (20)] [--direct-warmup N (5)] [--gradient-batch B (20)]
 * [--optimizer sgd|adam (sgd)] [--no-direct] [--no-cluster] [--no-torch]
 * [--models small,large,tiny (small,large)] [--checkpoint-directory]}: the last runs the
 * cluster with {@code anvil.checkpoint.directory} (checkpoint bytes as files). Start it as {@code bench/run-checkpoint.sh} does: the node JVMs are
 * launched with this JVM's class path.
 */
public final class CheckpointBench {
  private static final int WORKERS = 2;
  private static final long JOB_TIMEOUT_MINUTES = 15;
  /** JobCoordinator's GRADIENT_BYTES_PER_WRITE: the most gradient bytes it logs at once. */
  private static final long GRADIENT_BYTES_PER_WRITE = 16L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String USAGE = "usage: CheckpointBench [--repeats R (3)]"
      + " [--small-rounds N (2000)] [--large-rounds N (300)] [--tiny-rounds N (5000)]"
      + " [--warmup-small-rounds W (1000)] [--warmup-large-rounds W (60)]"
      + " [--warmup-tiny-rounds W (5000)] [--direct-reps N (20)] [--direct-warmup N (5)]"
      + " [--gradient-batch B (20)] [--optimizer sgd|adam (sgd)] [--no-direct] [--no-cluster]"
      + " [--no-torch] [--models small,large,tiny (small,large)] [--checkpoint-directory]";
  private static final String JOB = """
      job {
        name = "%s", seed = 7
        model { type = mlp, layers = [%s], activation = relu }
        data { type = synthetic, samples = %d, features = %d, classes = %d, seed = 11 }
        optimizer { %s }
        batch-size = 128, logical-shards = 16, rounds = %d, kernel = native
        checkpoint { every-rounds = %d, mode = %s }
      }
      """;

  /** A job's checkpoint setting: every {@code every} rounds (0: none), incremental or not. */
  private record Mode(int every, boolean incremental) {
    String label() {
      return every == 0 ? "none" : (incremental ? "incremental " : "snapshot ") + every;
    }

    String tag() {
      return every == 0 ? "none" : (incremental ? "i" : "s") + every;
    }
  }

  private static final Mode NONE = new Mode(0, false);
  private static final List<Mode> MODES = List.of(NONE, new Mode(50, false),
      new Mode(10, false), new Mode(50, true));
  private static final List<Mode> WARM_UP = List.of(new Mode(10, false), new Mode(10, true));

  /** A benchmarked model. */
  private record Model(String name, String layers, int samples, int features, int classes,
      int rounds, int warmupRounds) {}

  private record Options(int repeats, int smallRounds, int largeRounds, int tinyRounds,
      int warmupSmall, int warmupLarge, int warmupTiny, int directReps, int directWarmup, int gradientBatch, String optimizer,
      boolean direct, boolean cluster, boolean torch, List<String> models, boolean files) {}

  /** Per-step times of the repetitions after the warm-up, ms. */
  private static final class Times {
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
   * Direct figures of one model: a snapshot of {@code bytes} (steps copy, encode, write, total,
   * send) and the gradient log, {@code gradientBytes} a round, {@code batch} rounds a write
   * (steps clone, one, batch).
   */
  private record Direct(int params, long bytes, Times snapshot, long gradientBytes, int batch,
      Times gradients) {}

  /** One cluster job's figures; trainSeconds NaN when it failed. */
  private record Run(Mode mode, int rep, double trainSeconds, long rounds, String hash,
      Checkpoints checkpoints, double journalMs, double roundsPerWrite) {}

  /** torch.save figures of one model (ms medians), or why there are none. */
  private record Torch(double bytesio, double file, double fileSync, long bytes,
      String problem) {}

  private static int jobCounter;

  private CheckpointBench() {}

  public static void main(String[] args) throws Exception {
    Options o = parseArgs(args);
    List<Model> models = new ArrayList<>();
    for (Model m : List.of(
        new Model("small", "784, 128, 10", 40_000, 784, 10, o.smallRounds(), o.warmupSmall()),
        new Model("large", "784, 1024, 256, 10", 40_000, 784, 10, o.largeRounds(),
            o.warmupLarge()),
        new Model("tiny", "32, 64, 8", 24_000, 32, 8, o.tinyRounds(), o.warmupTiny()))) {
      if (o.models().contains(m.name())) {
        models.add(m);
        Console.say("%s = mlp [%s], %d rounds (warm-up %d)", m.name(), m.layers(), m.rounds(),
            m.warmupRounds());
      }
    }
    Console.say("checkpoint cost: synthetic data, kernel native, batch 128, 16 logical shards,"
        + " optimizer %s; modes %s; repeats %d (interleaved)", optimizerText(o.optimizer()),
        MODES.stream().map(Mode::label).toList(), o.repeats());
    Console.say("available processors %d; load average %.2f",
        Runtime.getRuntime().availableProcessors(), Console.loadAverage());
    Console.checkBlasThreads("bench/run-checkpoint.sh", "workers");
    Kernels.NativeProbe nativeBlas = Kernels.probeNative();
    if (!nativeBlas.available()) {
      Console.say("native BLAS missing: %s (install libopenblas0-pthread). Kernel native is"
          + " required.", nativeBlas.problem());
      System.exit(1);
    }
    Map<Model, Direct> direct = new LinkedHashMap<>();
    if (o.direct()) {
      Console.say("");
      Console.say("== 1. direct cost (this JVM, embedded PostgreSQL, %d reps after %d warm-up)"
          + " ==", o.directReps(), o.directWarmup());
      direct = directCost(o, models);
    }
    Map<Model, Torch> torch = new LinkedHashMap<>();
    if (o.torch()) {
      Console.say("");
      Console.say("== torch.save of a same-size model + %s state_dict ==", o.optimizer());
      for (Model m : models) {
        Torch t = torchSave(m, o);
        torch.put(m, t);
        Console.say("torch.save %-5s %s", m.name(), t.problem() != null
            ? "skipped: " + t.problem() : String.format(Locale.ROOT, "bytes %,d  BytesIO %.3f ms"
            + "  file %.3f ms  file+fsync %.3f ms", t.bytes(), t.bytesio(), t.file(),
            t.fileSync()));
      }
    }
    Map<Model, List<Run>> runs = new LinkedHashMap<>();
    if (o.cluster()) {
      Console.say("");
      Console.say("== 2. training-time overhead (LocalCluster 2 node JVMs x 1 worker slot, job on"
          + " %d workers) ==", WORKERS);
      runs = clusterRuns(o, models);
    }
    Console.say("");
    Console.say("==== summary ====");
    printDirect(o, models, direct, torch);
    printOverhead(o, models, runs);
  }

  // ---------------------------------------------------------------- part 1: direct cost

  private static Map<Model, Direct> directCost(Options o, List<Model> models) throws Exception {
    Map<Model, Direct> out = new LinkedHashMap<>();
    Path dir = Files.createTempDirectory("anvil-bench-checkpoint-db");
    long t0 = System.nanoTime();
    EmbeddedDatabase database = EmbeddedDatabase.start(dir.resolve("postgres"));
    try {
      DatabaseSettings db = database.settings(true);
      JournalSchema.createIfMissing(db);
      Console.say("embedded PostgreSQL up in %.1f s; %s", (System.nanoTime() - t0) / 1e9,
          serverSettings(db));
      try (CheckpointStore store = new CheckpointStore(db);
          CheckpointStore files = new CheckpointStore(db, dir.resolve("checkpoints"));
          Connection send = db.connect()) {
        for (Model m : models) {
          Direct d = directCost(o, m, store, files, send);
          out.put(m, d);
          Times s = d.snapshot();
          Times g = d.gradients();
          Console.say("direct %-5s snapshot: params %,d  bytes %,d  copy %.3f  encode+sha256"
              + " %.3f  write %.3f  total %.3f ms (send only %.3f; file store write %.3f); write"
              + " each rep %s", m.name(), d.params(), d.bytes(), s.median("copy"),
              s.median("encode"), s.median("write"), s.median("total"), s.median("send"),
              s.median("file"), list(s.all("write"), "%.1f"));
          Console.say("direct %-5s gradient log: %,d bytes a round  clone %.3f  one round %.3f"
              + "  %d rounds %.3f ms (%.3f ms a round); batch each rep %s", m.name(),
              d.gradientBytes(), g.median("clone"), g.median("one"), d.batch(),
              g.median("batch"), g.median("batch") / d.batch(), list(g.all("batch"), "%.1f"));
        }
      }
    } finally {
      database.close();
      Console.deleteTree(dir);
    }
    return out;
  }

  private static Direct directCost(Options o, Model m, CheckpointStore store,
      CheckpointStore files, Connection send) throws SQLException {
    JobSpec spec = spec(m, "direct-" + m.name(), m.rounds(), new Mode(50, false), o.optimizer());
    PreparedJob job = PreparedJob.prepare(spec, "bench");
    TrainingState initial = job.initialState();
    SplittableRandom random = new SplittableRandom(42);
    float[][] slots = initial.optimizer().slots();
    for (float[] slot : slots) {
      fill(slot, random);  // zeros would flatter any compression
    }
    float[] gradient = fill(new float[initial.params().length], random);
    String specText = JobSpecWriter.toHocon(spec);
    String jobId = "direct-" + m.name() + "-" + ProcessHandle.current().pid();
    int batch = (int) Math.max(1, Math.min(o.gradientBatch(),
        GRADIENT_BYTES_PER_WRITE / (4L * gradient.length)));
    Times snapshot = new Times();
    Times gradients = new Times();
    long bytes = 0;
    long logged = 0;
    for (int r = 0; r < o.directWarmup() + o.directReps(); r++) {
      boolean timed = r >= o.directWarmup();
      long round = 50L * (r + 1);
      TrainingState state = new TrainingState(round, initial.params(),
          new OptimizerState(round, slots));
      long a = System.nanoTime();
      TrainingState copied = state.copy();
      long b = System.nanoTime();
      CheckpointFormat.Encoded encoded = CheckpointFormat.encodeWithChecksum(new Checkpoint(
          jobId, specText, WORKERS, job.dataFingerprint(), job.kernel().name(), copied, 1.0,
          List.of(), 0, 0));
      long c = System.nanoTime();
      store.write(jobId, round, encoded.bytes(), encoded.checksum());
      long d = System.nanoTime();
      store.deleteBefore(jobId, round - 100);  // keep 3, like anvil.checkpoint.keep
      long g = System.nanoTime();
      files.write(jobId + "-files", round, encoded.bytes(), encoded.checksum());
      long h = System.nanoTime();
      files.deleteBefore(jobId + "-files", round - 100);
      bytes = encoded.bytes().length;
      if (timed) {
        snapshot.add("copy", b - a);
        snapshot.add("encode", c - b);
        snapshot.add("write", d - c);
        snapshot.add("total", d - a);
        snapshot.add("send", sendOnly(send, encoded.bytes()));
        snapshot.add("file", h - g);
      }

      a = System.nanoTime();
      float[] copy = gradient.clone();
      b = System.nanoTime();
      store.writeGradients(jobId, List.of(new RoundGradient(++logged, copy, 1.0, 128)));
      c = System.nanoTime();
      List<RoundGradient> rounds = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        rounds.add(new RoundGradient(++logged, gradient, 1.0, 128));
      }
      long e = System.nanoTime();
      store.writeGradients(jobId, rounds);
      long f = System.nanoTime();
      if (r == 0) {
        checkReadBack(store, jobId, round, state, logged, gradient);
      }
      store.deleteGradientsThrough(jobId, logged);  // untimed, as deleteBefore above
      if (timed) {
        gradients.add("clone", b - a);
        gradients.add("one", c - b);
        gradients.add("batch", f - e);
      }
    }
    store.deleteBefore(jobId, Long.MAX_VALUE);
    return new Direct(initial.params().length, bytes, snapshot, 4L * gradient.length, batch,
        gradients);
  }

  private static float[] fill(float[] values, SplittableRandom random) {
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextDouble(-1, 1) * 1e-2);
    }
    return values;
  }

  private static void checkReadBack(CheckpointStore store, String jobId, long round,
      TrainingState state, long gradientRound, float[] gradient) {
    Checkpoint back = CheckpointFormat.decode(store.read(jobId, round));
    List<RoundGradient> logged = store.readGradients(jobId, gradientRound, gradientRound);
    if (!Arrays.equals(back.state().params(), state.params())
        || !back.state().optimizer().equals(state.optimizer()) || logged.size() != 1
        || !Arrays.equals(logged.get(0).gradient(), gradient)) {
      throw new IllegalStateException("what was read back differs from what was written");
    }
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
    try (Connection c = db.connect(); Statement s = c.createStatement()) {
      for (String name : List.of("server_version", "synchronous_commit", "fsync",
          "full_page_writes", "shared_buffers")) {
        try (ResultSet r = s.executeQuery("SHOW " + name)) {
          out.add(name + "=" + (r.next() ? r.getString(1) : "?"));
        }
      }
      try (ResultSet r = s.executeQuery("SELECT attrelid::regclass, attstorage FROM"
          + " pg_attribute WHERE attname = 'data' AND attrelid IN ('" + CheckpointStore.TABLE
          + "'::regclass, '" + CheckpointStore.GRADIENTS + "'::regclass)")) {
        while (r.next()) {  // e = EXTERNAL: out of line, no compression attempt
          out.add(r.getString(1) + ".data storage=" + r.getString(2));
        }
      }
    } catch (SQLException e) {
      out.add("settings unreadable: " + e.getMessage());
    }
    return String.join(" ", out);
  }

  // ---------------------------------------------------------------- torch.save

  private static final String TORCH_SCRIPT = """
      import io, json, os, statistics, sys, tempfile, time
      import torch
      torch.set_num_threads(1)
      layers = [int(v) for v in sys.argv[1].split(",")]
      optimizer, reps, warmup = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
      torch.manual_seed(0)
      mods = []
      for i in range(len(layers) - 1):
          mods.append(torch.nn.Linear(layers[i], layers[i + 1]))
          if i < len(layers) - 2:
              mods.append(torch.nn.ReLU())
      model = torch.nn.Sequential(*mods)
      if optimizer == "adam":
          opt = torch.optim.Adam(model.parameters(), lr=0.001)
      else:
          opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
      x = torch.randn(128, layers[0])
      y = torch.randint(0, layers[-1], (128,))
      torch.nn.functional.cross_entropy(model(x), y).backward()
      opt.step()  # creates the optimizer state (momentum buffers / moments)
      def state():
          return {"model": model.state_dict(), "optimizer": opt.state_dict()}
      folder = tempfile.mkdtemp(prefix="anvil-bench-torchsave")
      path = os.path.join(folder, "checkpoint.pt")
      def bytesio():
          b = io.BytesIO()
          torch.save(state(), b)
          return b.tell()
      def to_file(sync):
          with open(path, "wb") as f:
              torch.save(state(), f)
              if sync:
                  f.flush()
                  os.fsync(f.fileno())
      cases = [("bytesio", bytesio), ("file", lambda: to_file(False)),
               ("file+fsync", lambda: to_file(True))]
      out = {}
      for name, fn in cases:
          times = []
          for r in range(warmup + reps):
              t0 = time.perf_counter()
              fn()
              if r >= warmup:
                  times.append((time.perf_counter() - t0) * 1000)
          out[name + "_ms"] = statistics.median(times)
      out["bytes"] = bytesio()
      os.remove(path)
      os.rmdir(folder)
      print(json.dumps(out))
      """;

  private static Torch torchSave(Model m, Options o) {
    Path python = PyTorchPeer.PYTHON;
    if (!Files.isExecutable(python)) {
      return new Torch(0, 0, 0, 0, python + " not found");
    }
    Path script = null;
    try {
      script = Files.createTempFile("anvil-bench-torchsave", ".py");
      Files.writeString(script, TORCH_SCRIPT);
      ProcessBuilder pb = new ProcessBuilder(python.toString(), script.toString(),
          m.layers().replace(" ", ""), o.optimizer(), String.valueOf(o.directReps()),
          String.valueOf(o.directWarmup())).redirectErrorStream(true);
      pb.environment().put("OMP_NUM_THREADS", "1");
      Process p = pb.start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String last = output.strip().substring(output.strip().lastIndexOf('\n') + 1);
      if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
        return new Torch(0, 0, 0, 0, "the torch.save script failed: " + last);
      }
      JsonNode j = JSON.readTree(last);
      return new Torch(j.path("bytesio_ms").asDouble(), j.path("file_ms").asDouble(),
          j.path("file+fsync_ms").asDouble(), j.path("bytes").asLong(), null);
    } catch (IOException | InterruptedException e) {
      return new Torch(0, 0, 0, 0, e.toString());
    } finally {
      try {
        if (script != null) {
          Files.deleteIfExists(script);
        }
      } catch (IOException ignored) {
        // a temp file left behind
      }
    }
  }

  // ---------------------------------------------------------------- part 2: cluster runs

  private static Map<Model, List<Run>> clusterRuns(Options o, List<Model> models)
      throws Exception {
    Map<Model, List<Run>> out = new LinkedHashMap<>();
    Path dir = Files.createTempDirectory("anvil-bench-checkpoint-cluster");
    List<String> debug = List.of("-Danvil.log.level=DEBUG");
    long t0 = System.nanoTime();
    boolean failed = false;
    LocalCluster.Settings settings = LocalCluster.Settings.of(2, 1, dir)
        .withNodeJvmOptions(List.of(debug, debug));
    if (o.files()) {
      settings = settings.withCommonJvmOptions(List.of("-Danvil.checkpoint.directory="
          + dir.resolve("checkpoints")));
    }
    LocalCluster cluster = LocalCluster.start(settings);
    Console.say("cluster up in %.1f s (data folder %s); node JVMs at log level DEBUG;"
        + " checkpoints %s", (System.nanoTime() - t0) / 1e9, dir, o.files()
        ? "as files in " + dir.resolve("checkpoints") : "in the anvil_checkpoint table");
    try {
      for (Model m : models) {
        out.put(m, new ArrayList<>());
        for (Mode mode : WARM_UP) {
          Run w = runCluster(cluster, o, m, mode, 0, m.warmupRounds(), "warm-up");
          failed |= Double.isNaN(w.trainSeconds());
          Console.say("warm-up  %-5s %-14s %s", m.name(), mode.label(), runLine(w));
        }
      }
      for (int rep = 1; rep <= o.repeats(); rep++) {
        Console.say("rep %d/%d  load average %.2f", rep, o.repeats(), Console.loadAverage());
        for (Model m : models) {
          for (Mode mode : MODES) {
            Run r = runCluster(cluster, o, m, mode, rep, m.rounds(), "bench");
            failed |= Double.isNaN(r.trainSeconds());
            out.get(m).add(r);
            Console.say("rep %d/%d  %-5s %-14s %s", rep, o.repeats(), m.name(), mode.label(),
                runLine(r));
          }
        }
      }
      Console.say("left in the database: %s", tableSizes(cluster.database()));
    } finally {
      cluster.close();
      if (failed) {
        Console.say("(a cluster job failed: node logs kept in %s)", dir);
      } else {
        Console.deleteTree(dir);
      }
    }
    return out;
  }

  private static Run runCluster(LocalCluster cluster, Options o, Model m, Mode mode, int rep,
      int rounds, String kind) {
    String jobId = String.format(Locale.ROOT, "ckpt-%s-%s-%s-%d-%d", kind, m.name(), mode.tag(),
        ++jobCounter, ProcessHandle.current().pid());
    JsonNode r = ClusterJobs.run(cluster, jobId, spec(m, kind + "-" + m.name(), rounds, mode,
        o.optimizer()), WORKERS, JOB_TIMEOUT_MINUTES);
    if (r == null) {
      return new Run(mode, rep, Double.NaN, rounds, null, Checkpoints.NONE, Double.NaN,
          Double.NaN);
    }
    // The job may finish while its last checkpoint is still being written: wait for that write
    // (its log line), so that it does not run into the next job, then let the machine settle.
    long last = mode.every() == 0 ? 0 : (long) ((rounds - 1) / mode.every()) * mode.every();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (last > 0 && !Checkpoints.of(cluster, jobId).ended().contains(last)
        && System.nanoTime() < until) {
      sleep(100);
    }
    if (last > 0 && !Checkpoints.of(cluster, jobId).ended().contains(last)) {
      Console.say("(job %s: no log line for the checkpoint of round %d within 20 s)", jobId,
          last);
    }
    sleep(1000);
    JsonNode split = r.path("roundTimeSplitMs");
    return new Run(mode, rep, r.path("trainSeconds").asDouble(Double.NaN),
        r.path("rounds").asLong(), r.path("paramsSha256").asText(null),
        Checkpoints.of(cluster, jobId), split.path("journalWrite").asDouble(Double.NaN),
        split.path("roundsPerJournalWrite").asDouble(Double.NaN));
  }

  /** Rows and bytes of the checkpoint tables (finished jobs keep their last checkpoints). */
  private static String tableSizes(DatabaseSettings db) {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect(); Statement s = c.createStatement()) {
      for (String table : List.of(CheckpointStore.TABLE, CheckpointStore.GRADIENTS)) {
        try (ResultSet r = s.executeQuery("SELECT count(*), pg_total_relation_size('" + table
            + "') FROM " + table)) {
          r.next();
          out.add(String.format(Locale.ROOT, "%s %,d rows %,d MB", table, r.getLong(1),
              r.getLong(2) >> 20));
        }
      }
    } catch (SQLException e) {
      out.add("unreadable: " + e.getMessage());
    }
    return String.join("; ", out);
  }

  /** What a job's coordinator logged about its checkpoints. */
  private record Checkpoints(int written, int committed, int notWritten, List<Double> writeMs,
      long bytes, List<Long> ended) {
    static final Checkpoints NONE = new Checkpoints(0, 0, 0, List.of(), 0, List.of());

    static Checkpoints of(LocalCluster cluster, String jobId) {
      String prefix = "job " + Pattern.quote(jobId) + ": (?:the )?checkpoint of round (\\d+) ";
      Pattern written = Pattern.compile(prefix + "written, (\\d+) bytes in (\\d+) ms");
      Pattern committed = Pattern.compile(prefix + "committed \\(");
      Pattern notWritten = Pattern.compile(prefix + "was not written");
      int k = 0;
      long bytes = 0;
      List<Double> ms = new ArrayList<>();
      List<Long> ended = new ArrayList<>();
      List<Long> failed = new ArrayList<>();
      for (int i = 0; i < cluster.size(); i++) {
        List<String> lines;
        try {
          lines = Files.readAllLines(cluster.logFile(i), StandardCharsets.UTF_8);
        } catch (IOException e) {
          continue;
        }
        for (String line : lines) {
          if (!line.contains(jobId)) {
            continue;
          }
          Matcher a = written.matcher(line);
          Matcher c = notWritten.matcher(line);
          if (a.find()) {
            ended.add(Long.parseLong(a.group(1)));
            bytes = Long.parseLong(a.group(2));
            ms.add(Double.parseDouble(a.group(3)));
          } else if (committed.matcher(line).find()) {
            k++;
          } else if (c.find()) {
            failed.add(Long.parseLong(c.group(1)));
          }
        }
      }
      int w = ended.size();
      ended.addAll(failed);
      return new Checkpoints(w, k, failed.size(), ms, bytes, ended);
    }
  }

  private static String runLine(Run r) {
    if (Double.isNaN(r.trainSeconds())) {
      return "FAILED";
    }
    Checkpoints c = r.checkpoints();
    List<Double> w = c.writeMs();
    return String.format(Locale.ROOT, "trainSeconds %7.3f  round %.3f ms  ckpts %d/%d%s  write %s"
        + "  bytes %,d  journal %.1f ms / %.1f rnds  params %s", r.trainSeconds(),
        1000 * r.trainSeconds() / r.rounds(), c.written(), c.committed(),
        c.notWritten() > 0 ? " NOT WRITTEN " + c.notWritten() : "", w.isEmpty() ? "-"
        : String.format(Locale.ROOT, "first %.0f med %.0f max %.0f ms", w.get(0),
            Stats.median(w), w.stream().mapToDouble(d -> d).max().orElse(Double.NaN)),
        c.bytes(), r.journalMs(), r.roundsPerWrite(), Console.shortHash(r.hash()));
  }

  // ---------------------------------------------------------------- summary

  private static void printDirect(Options o, List<Model> models, Map<Model, Direct> direct,
      Map<Model, Torch> torch) {
    if (direct.isEmpty()) {
      return;
    }
    Console.say("");
    Console.say("Direct cost, medians of %d reps, ms", o.directReps());
    Console.say("%-6s %10s %11s %7s %9s %8s %8s %7s %7s | %9s %9s %10s", "model", "params",
        "ckpt bytes", "copy", "enc+sha", "write", "total", "(send)", "(file)", "torch mem",
        "torch fil", "torch fsync");
    for (Model m : models) {
      Direct d = direct.get(m);
      Times s = d.snapshot();
      Torch t = torch.get(m);
      boolean hasTorch = t != null && t.problem() == null;
      Console.say("%-6s %,10d %,11d %7.3f %9.3f %8.3f %8.3f %7.3f %7.3f | %9s %9s %10s",
          m.name(), d.params(), d.bytes(), s.median("copy"), s.median("encode"),
          s.median("write"), s.median("total"), s.median("send"), s.median("file"),
          hasTorch ? fmt(t.bytesio()) : "-",
          hasTorch ? fmt(t.file()) : "-", hasTorch ? fmt(t.fileSync()) : "-");
    }
    Console.say("(snapshot: copy = TrainingState.copy() on the coordinator's thread; enc+sha ="
        + " CheckpointFormat.encodeWithChecksum, encode + SHA-256 in one pass; write ="
        + " CheckpointStore.write; enc+sha and write run off the coordinator's thread; (send) ="
        + " the bytes sent as a query parameter, nothing stored, not in total; (file) ="
        + " CheckpointStore.write with anvil.checkpoint.directory: file written, forced,"
        + " renamed, plus its row without bytes. torch ="
        + " torch.save(model + optimizer state_dict) to BytesIO / file / file + fsync)");
    Console.say("%-6s %12s %8s %10s %7s %12s %12s", "model", "bytes/round", "clone",
        "1 round", "batch", "batch write", "ms/round");
    for (Model m : models) {
      Direct d = direct.get(m);
      Times g = d.gradients();
      Console.say("%-6s %,12d %8.3f %10.3f %7d %12.3f %12.3f", m.name(), d.gradientBytes(),
          g.median("clone"), g.median("one"), d.batch(), g.median("batch"),
          g.median("batch") / d.batch());
    }
    Console.say("(incremental, every round: clone = the gradient's copy on the coordinator's"
        + " thread; 1 round / batch write = CheckpointStore.writeGradients of 1 / batch rounds,"
        + " off the coordinator's thread, before the rounds are journaled)");
  }

  private static void printOverhead(Options o, List<Model> models, Map<Model, List<Run>> runs) {
    if (runs.isEmpty()) {
      return;
    }
    Console.say("");
    Console.say("Training time, medians over %d interleaved repeats (trainSeconds = sum of round"
        + " times)", o.repeats());
    Console.say("%-6s %-14s %8s %9s %9s %9s %6s %11s %9s %10s %9s", "model", "mode", "rounds",
        "train s", "overhead", "paired", "ckpts", "extra/ckpt", "in rnds", "extra/rnd",
        "write ms");
    List<String> verdicts = new ArrayList<>();
    boolean allMet = true;
    for (Model m : models) {
      List<Run> all = runs.get(m);
      double none = medianTrain(all, NONE);
      List<Double> roundMs = new ArrayList<>();
      all.stream().filter(r -> r.mode().equals(NONE))
          .forEach(r -> roundMs.add(1000 * r.trainSeconds() / r.rounds()));
      double round = Stats.median(roundMs);
      for (Mode mode : MODES) {
        double med = medianTrain(all, mode);
        List<Double> counts = new ArrayList<>();
        List<Double> writes = new ArrayList<>();
        all.stream().filter(r -> r.mode().equals(mode) && !Double.isNaN(r.trainSeconds()))
            .forEach(r -> {
              counts.add((double) r.checkpoints().written());
              writes.addAll(r.checkpoints().writeMs());
            });
        double ckpts = Stats.median(counts);
        double overhead = (med - none) / none;
        double extraMs = ckpts > 0 ? 1000 * (med - none) / ckpts : Double.NaN;
        boolean k = mode.every() != 0;
        Console.say("%-6s %-14s %8d %9.3f %9s %9s %6s %11s %9s %10s %9s", m.name(), mode.label(),
            m.rounds(), med, k ? pct(overhead) : "-", k ? pct(Stats.median(paired(all, mode)))
            : "-", k ? String.format(Locale.ROOT, "%.0f", ckpts) : "-", k ? fmt(extraMs) : "-",
            k ? String.format(Locale.ROOT, "%.2f", extraMs / round) : "-",
            k ? fmt(1000 * (med - none) / m.rounds()) : "-",
            writes.isEmpty() ? "-" : String.format(Locale.ROOT, "%.0f", Stats.median(writes)));
        if (!k) {
          continue;
        }
        Console.say("%-21s paired per repeat: %s", "", pctList(paired(all, mode)));
        if (mode.every() == 50) {
          boolean ok = overhead < 0.02;
          allMet &= ok;
          verdicts.add(String.format(Locale.ROOT, "%s %s: overhead %s (target < 2%%): %s",
              m.name(), mode.label(), pct(overhead), met(overhead, ok)));
        }
        boolean ok = extraMs < 2 * round;
        allMet &= ok;
        verdicts.add(String.format(Locale.ROOT, "%s %s: extra training time per checkpoint %s ms"
            + " = %.2f rounds of %.3f ms (target < 2 rounds): %s", m.name(), mode.label(),
            fmt(extraMs), extraMs / round, round, met(extraMs, ok)));
      }
      TreeSet<String> hashes = new TreeSet<>();
      all.forEach(r -> hashes.add(String.valueOf(r.hash())));
      Console.say("%-6s none runs %s s; median round %.3f ms; params hash equal in every run: %s",
          m.name(), list(all.stream().filter(r -> r.mode().equals(NONE))
              .map(Run::trainSeconds).toList(), "%.3f"), round, hashes.size() == 1
              ? "yes, " + Console.shortHash(hashes.first()) : "NO " + hashes);
    }
    Console.say("(overhead = (median K - median none) / median none; paired = median over"
        + " repeats of (K - none) / none of the same repeat; ckpts = median checkpoints written"
        + " per run; extra/ckpt = (median K - median none) / ckpts, ms and median rounds of the"
        + " none runs; extra/rnd = (median K - median none) / rounds, ms; write ms = the"
        + " coordinator's encode + write of a checkpoint, median, from its DEBUG log)");
    Console.say("");
    verdicts.forEach(v -> Console.say("target %s", v));
    Console.say("ALL TARGETS: %s", allMet ? "MET" : "NOT MET");
  }

  private static double medianTrain(List<Run> runs, Mode mode) {
    return Stats.median(runs.stream().filter(r -> r.mode().equals(mode))
        .map(Run::trainSeconds).toList());
  }

  /** Each repeat's (K - none) / none, K and none of the same repeat. */
  private static List<Double> paired(List<Run> runs, Mode mode) {
    List<Double> out = new ArrayList<>();
    for (Run r : runs) {
      for (Run n : runs) {
        if (r.mode().equals(mode) && n.mode().equals(NONE) && n.rep() == r.rep()) {
          out.add((r.trainSeconds() - n.trainSeconds()) / n.trainSeconds());
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private static JobSpec spec(Model m, String name, int rounds, Mode mode, String optimizer) {
    String text = String.format(Locale.ROOT, JOB, name, m.layers(), m.samples(), m.features(),
        m.classes(), optimizerText(optimizer), rounds, mode.every(),
        mode.incremental() ? "incremental" : "snapshot");
    return JobSpecParser.parse(text, "bench", null);
  }

  private static String optimizerText(String optimizer) {
    return optimizer.equals("adam") ? "type = adam, learning-rate = 0.001"
        : "type = sgd, learning-rate = 0.05, momentum = 0.9";
  }

  private static String met(double figure, boolean ok) {
    return Double.isNaN(figure) ? "NOT MEASURED" : ok ? "MET" : "NOT MET";
  }

  private static String pct(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%+.2f%%", 100 * v);
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
  }

  private static String pctList(List<Double> values) {
    return "[" + String.join(" ", values.stream().map(CheckpointBench::pct).toList()) + "]";
  }

  private static String list(List<Double> values, String format) {
    return "[" + String.join(" ", values.stream()
        .map(v -> String.format(Locale.ROOT, format, v)).toList()) + "]";
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Options parseArgs(String[] args) {
    int[] v = {3, 2000, 300, 5000, 1000, 60, 5000, 20, 5, 20};
    String optimizer = "sgd";
    boolean[] parts = {true, true, true, false};  // direct, cluster, torch, files
    List<String> models = List.of("small", "large");
    List<String> ints = List.of("--repeats", "--small-rounds", "--large-rounds",
        "--tiny-rounds", "--warmup-small-rounds", "--warmup-large-rounds", "--warmup-tiny-rounds",
        "--direct-reps", "--direct-warmup", "--gradient-batch");
    int[] least = {1, 11, 11, 11, 11, 11, 11, 1, 0, 1};
    try {
      for (int i = 0; i < args.length; i++) {
        int n = ints.indexOf(args[i]);
        if (n >= 0) {
          v[n] = Console.atLeast(args, ++i, least[n]);
          continue;
        }
        switch (args[i]) {
          case "--optimizer" -> {
            optimizer = ++i < args.length ? args[i] : "";
            if (!optimizer.equals("sgd") && !optimizer.equals("adam")) {
              throw new IllegalArgumentException("--optimizer needs sgd or adam");
            }
          }
          case "--no-direct" -> parts[0] = false;
          case "--no-cluster" -> parts[1] = false;
          case "--no-torch" -> parts[2] = false;
          case "--checkpoint-directory" -> parts[3] = true;
          case "--models" -> {
            models = List.of((++i < args.length ? args[i] : "").split(","));
            if (!List.of("small", "large", "tiny").containsAll(models)) {
              throw new IllegalArgumentException("--models needs a comma-separated list of"
                  + " small, large and tiny, e.g. small,large");
            }
          }
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage() + "\n" + USAGE);
      System.exit(2);
    }
    return new Options(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], optimizer,
        parts[0], parts[1], parts[2], models, parts[3]);
  }
}
