package dev.anvil.core.spec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a job (HOCON, the public contract documented in the README) into a {@link JobSpec}, or
 * throws a {@link JobSpecException} listing every invalid field with its path, what is wrong and
 * what is allowed.
 *
 * <p>Two trust levels. A job file the CLI reads from the user's own disk ({@link #parse(Path)},
 * {@link #parse(String, String, Path)}) may use HOCON includes and substitutions (of other keys,
 * system properties and environment variables), and its errors quote its values. A job that arrives
 * from another process ({@link #parseUntrusted}: HTTP bodies, cluster messages, the job inside a
 * checkpoint file, the journal) is parsed with every include refused and every substitution refused
 * before anything is resolved; its errors name keys and never echo values; its data must lie in the
 * node's allowed folders and its model class on the node's allow list. Both check the size limits
 * of {@link SpecRules} with exact arithmetic before anything is allocated. Relative data paths of a
 * file are resolved against the file's folder.
 */
public final class JobSpecParser {
  private static final Set<String> JOB_KEYS =
      Set.of(
          "name",
          "seed",
          "model",
          "data",
          "optimizer",
          "schedule",
          "clip-norm",
          "batch-size",
          "logical-shards",
          "epochs",
          "rounds",
          "kernel",
          "checkpoint");
  private static final String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
  private static final String SPEC = "job spec";

  private JobSpecParser() {}

  /**
   * Reads and validates a job file from the user's own disk. Includes and substitutions are
   * allowed; a relative include is found next to the file.
   */
  public static JobSpec parse(Path file) {
    if (!Files.isReadable(file)) {
      throw new JobSpecException(
          file.toString(),
          List.of(
              new Problem(
                  "job file",
                  file.toString(),
                  Files.exists(file)
                      ? "cannot be read: no permission"
                      : "cannot be read: no such file")));
    }
    Path base = file.toAbsolutePath().getParent();
    return parseTrusted(
        () -> ConfigFactory.parseFile(file.toFile(), trustedOptions(file.toString())),
        file.toString(),
        base);
  }

  /**
   * Validates job text the user wrote (includes and substitutions allowed). {@code origin} names it
   * in messages; {@code baseDir} resolves relative data paths.
   */
  public static JobSpec parse(String text, String origin, Path baseDir) {
    return parseTrusted(
        () -> ConfigFactory.parseString(text, trustedOptions(origin)), origin, baseDir);
  }

  private static ConfigParseOptions trustedOptions(String origin) {
    return ConfigParseOptions.defaults()
        .setOriginDescription(origin)
        .setSyntax(ConfigSyntax.CONF)
        .setAllowMissing(false);
  }

  private static JobSpec parseTrusted(
      java.util.function.Supplier<Config> parser, String origin, Path baseDir) {
    Config config;
    try {
      config = parser.get().resolve();
    } catch (ConfigException e) {
      int line = e.origin() == null ? -1 : e.origin().lineNumber();
      String where = line > 0 ? "line " + line : "unknown line";
      throw new JobSpecException(
          origin, List.of(new Problem("job file", where, "not valid HOCON: " + stripOrigin(e))));
    }
    return validate(config, origin, baseDir, SpecRules.defaults(), false);
  }

  /**
   * Validates a job that came from another process, under a node's {@code rules}: the text must be
   * within {@code anvil.limits.spec-bytes}, hold no include and no substitution, and name data and
   * classes the rules allow. Errors name keys, never values. The returned spec's data path is the
   * real path that was checked.
   */
  public static JobSpec parseUntrusted(String text, String origin, SpecRules rules) {
    long bytes =
        text.length() > rules.maxSpecBytes()
            ? text.length()
            : text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > rules.maxSpecBytes()) {
      throw new JobSpecException(
          origin,
          List.of(
              new Problem(
                  SPEC,
                  "over " + rules.maxSpecBytes() + " bytes",
                  "at most anvil.limits.spec-bytes = " + rules.maxSpecBytes() + " bytes")));
    }
    Config config;
    try {
      config =
          ConfigFactory.parseString(
              text,
              ConfigParseOptions.defaults()
                  .setOriginDescription(origin)
                  .setSyntax(ConfigSyntax.CONF)
                  .setAllowMissing(false)
                  .setIncluder(new NoIncludes()));
    } catch (ConfigException e) {
      int line = e.origin() == null ? -1 : e.origin().lineNumber();
      String where = line > 0 ? "line " + line : "unknown line";
      String why =
          String.valueOf(e.getMessage()).contains(NoIncludes.REFUSED)
              ? "holds an include, which a job sent to a node may not use; send the job as one"
                  + " text (anvil train and anvil validate resolve includes on your machine)"
              : "not valid HOCON or JSON (the parser's message is not shown for a job from"
                  + " elsewhere; anvil validate FILE shows it)";
      throw new JobSpecException(origin, List.of(new Problem(SPEC, where, why)));
    }
    List<String> substituted = new ArrayList<>();
    unresolved(config.root(), "", substituted);
    if (!substituted.isEmpty()) {
      List<Problem> problems = new ArrayList<>();
      for (String path : substituted) {
        problems.add(
            new Problem(
                path,
                "a substitution",
                "a job sent to a node may not use"
                    + " substitutions (${...}, +=); send it resolved (anvil train and anvil validate"
                    + " resolve them on your machine)"));
      }
      throw new JobSpecException(origin, problems);
    }
    return validate(config, origin, null, rules, true);
  }

  /** Adds the paths of values under {@code object} that are substitutions or hold one. */
  private static void unresolved(ConfigObject object, String prefix, List<String> out) {
    for (String key : new TreeSet<>(object.keySet())) {
      String path =
          prefix.isEmpty()
              ? SpecReader.quoteIfNeeded(key)
              : prefix + "." + SpecReader.quoteIfNeeded(key);
      unresolved(object.get(key), path, out);
    }
  }

  private static void unresolved(ConfigValue value, String path, List<String> out) {
    ConfigValueType type;
    try {
      type = value.valueType();
    } catch (ConfigException.NotResolved e) {
      out.add(path);
      return;
    }
    if (type == ConfigValueType.OBJECT) {
      unresolved((ConfigObject) value, path, out);
    } else if (type == ConfigValueType.LIST) {
      ConfigList list = (ConfigList) value;
      for (int i = 0; i < list.size(); i++) {
        unresolved(list.get(i), path + "[" + i + "]", out);
      }
    }
  }

  /** The parser's message without the "origin: line:" prefix that the problem already shows. */
  private static String stripOrigin(ConfigException e) {
    String m = e.getMessage();
    String prefix = e.origin() == null ? null : e.origin().description() + ": ";
    return prefix != null && m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }

  static JobSpec validate(
      Config config, String origin, Path baseDir, SpecRules rules, boolean untrusted) {
    SpecReader r = new SpecReader(config, !untrusted);
    if (!r.section("job")) {
      throw new JobSpecException(origin, r.problems());
    }
    r.rejectUnknownKeys("job", JOB_KEYS);

    String name = r.string("job.name", null);
    if (r.has("job.name") && !name.matches(NAME_PATTERN)) {
      r.problem(
          "job.name",
          r.render("job.name"),
          "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    long seed = r.wholeNumber("job.seed", 0L, v -> true, "a whole number");
    ModelSpec model = readModel(r, rules, untrusted);
    DataSpec data = readData(r, baseDir, rules, untrusted);
    Sizes.check(r, model, data, rules);
    OptimizerSpec optimizer = readOptimizer(r);
    ScheduleSpec schedule = readSchedule(r);
    double clipNorm =
        r.number(
            "job.clip-norm",
            0.0,
            v -> v >= 0 && Double.isFinite(v),
            "a finite number >= 0 (0 turns clipping off)");
    int logicalShards =
        r.wholeNumberInt(
            "job.logical-shards", null, v -> v > 0 && v <= 4096, "a whole number from 1 to 4096");
    int batchSize =
        r.wholeNumberInt("job.batch-size", null, v -> v > 0 && v <= 1 << 24, "a whole number > 0");
    if (logicalShards > 0 && batchSize > 0 && batchSize % logicalShards != 0) {
      r.problem(
          "job.batch-size",
          r.render("job.batch-size"),
          "must be divisible by job.logical-shards ("
              + logicalShards
              + ") so that every logical shard contributes the same number of samples;"
              + " nearest valid: "
              + nearestMultiples(batchSize, logicalShards));
    }
    TrainingLength length = readLength(r);
    KernelChoice kernel =
        KernelChoice.valueOf(
            upper(r.choice("job.kernel", "auto", List.of("auto", "native", "java")), "auto"));
    CheckpointSpec checkpoint = readCheckpoint(r);

    if (!r.ok()) {
      throw new JobSpecException(origin, r.problems());
    }
    return new JobSpec(
        name,
        seed,
        model,
        data,
        optimizer,
        schedule,
        clipNorm,
        batchSize,
        logicalShards,
        length,
        kernel,
        checkpoint);
  }

  /** An enum constant's name from a choice, or {@code fallback}'s when the choice was invalid. */
  private static String upper(String choice, String fallback) {
    return (choice == null ? fallback : choice).toUpperCase(java.util.Locale.ROOT);
  }

  private static String nearestMultiples(int batch, int shards) {
    int below = batch / shards * shards;
    int above = below + shards;
    return below > 0 ? below + " or " + above : String.valueOf(above);
  }

  private static ModelSpec readModel(SpecReader r, SpecRules rules, boolean untrusted) {
    if (!r.section("job.model")) {
      return new ModelSpec.Custom("");
    }
    String type = r.choice("job.model.type", null, List.of("mlp", "softmax", "linear", "class"));
    if (type == null) {
      return new ModelSpec.Custom("");
    }
    switch (type) {
      case "mlp":
        {
          r.rejectUnknownKeys("job.model", Set.of("type", "layers", "activation"));
          List<Integer> layers = r.positiveIntList("job.model.layers", 2);
          Activation activation =
              Activation.valueOf(
                  upper(r.choice("job.model.activation", "relu", List.of("relu", "tanh")), "relu"));
          return new ModelSpec.Mlp(layers, activation);
        }
      case "softmax":
        r.rejectUnknownKeys("job.model", Set.of("type", "inputs", "classes"));
        return new ModelSpec.Softmax(
            optionalInt(r.optionalPositiveInt("job.model.inputs")),
            optionalInt(r.optionalPositiveInt("job.model.classes")));
      case "linear":
        r.rejectUnknownKeys("job.model", Set.of("type", "inputs", "outputs"));
        return new ModelSpec.Linear(
            optionalInt(r.optionalPositiveInt("job.model.inputs")),
            optionalInt(r.optionalPositiveInt("job.model.outputs")));
      default:
        {
          r.rejectUnknownKeys("job.model", Set.of("type", "class"));
          String className = r.string("job.model.class", null);
          if (r.has("job.model.class")
              && !className.matches("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*")) {
            r.problem(
                "job.model.class",
                r.render("job.model.class"),
                "a fully qualified Java class name implementing dev.anvil.core.model.Model");
          } else if (untrusted
              && r.has("job.model.class")
              && !rules.allowedClasses().contains(className)) {
            r.problem(
                "job.model.class",
                r.render("job.model.class"),
                "not a class this node"
                    + " allows in jobs sent to it; its operator lists them in"
                    + " anvil.models.allowed-classes");
          }
          return new ModelSpec.Custom(className);
        }
    }
  }

  private static OptionalInt optionalInt(Optional<Integer> v) {
    return v.map(OptionalInt::of).orElse(OptionalInt.empty());
  }

  private static DataSpec readData(SpecReader r, Path baseDir, SpecRules rules, boolean untrusted) {
    if (!r.section("job.data")) {
      return new DataSpec.Synthetic(0, 0, 0, 0, 0);
    }
    String type = r.choice("job.data.type", null, List.of("idx", "csv", "synthetic"));
    if (type == null) {
      return new DataSpec.Synthetic(0, 0, 0, 0, 0);
    }
    switch (type) {
      case "idx":
        {
          r.rejectUnknownKeys("job.data", Set.of("type", "path"));
          Path path = resolve(baseDir, r.string("job.data.path", null));
          if (untrusted) {
            return new DataSpec.Idx(DataRoots.check(r, path, rules, true));
          }
          if (r.has("job.data.path") && !Files.isDirectory(path)) {
            r.problem(
                "job.data.path",
                r.render("job.data.path"),
                "a folder holding the IDX files"
                    + " (train-images-idx3-ubyte[.gz] ...), but "
                    + path
                    + " is not a folder;"
                    + " Fashion-MNIST: apt-get install dataset-fashion-mnist");
          }
          return new DataSpec.Idx(path);
        }
      case "csv":
        {
          r.rejectUnknownKeys("job.data", Set.of("type", "path", "label-column", "test-fraction"));
          Path path = resolve(baseDir, r.string("job.data.path", null));
          if (untrusted) {
            path = DataRoots.check(r, path, rules, false);
          } else if (r.has("job.data.path") && !Files.isRegularFile(path)) {
            r.problem(
                "job.data.path",
                r.render("job.data.path"),
                "a readable CSV file, but " + path + " is not a file");
          }
          String label = r.string("job.data.label-column", null);
          double testFraction = testFraction(r);
          return new DataSpec.Csv(path, label.trim(), testFraction);
        }
      default:
        {
          r.rejectUnknownKeys(
              "job.data",
              Set.of("type", "samples", "features", "classes", "seed", "test-fraction"));
          int samples =
              r.wholeNumberInt(
                  "job.data.samples",
                  null,
                  v -> v >= 2 && v <= 50_000_000,
                  "a whole number from 2 to 50000000");
          int features =
              r.wholeNumberInt(
                  "job.data.features",
                  null,
                  v -> v >= 1 && v <= 100_000,
                  "a whole number from 1 to 100000");
          int classes =
              r.wholeNumberInt(
                  "job.data.classes",
                  null,
                  v -> v >= 2 && v <= 100_000,
                  "a whole number from 2 to 100000");
          long seed = r.wholeNumber("job.data.seed", 0L, v -> true, "a whole number");
          return new DataSpec.Synthetic(samples, features, classes, seed, testFraction(r));
        }
    }
  }

  private static double testFraction(SpecReader r) {
    return r.number(
        "job.data.test-fraction", 0.1, v -> v > 0 && v < 1, "a number strictly between 0 and 1");
  }

  private static Path resolve(Path baseDir, String path) {
    Path p = Path.of(path.isEmpty() ? "." : path);
    return p.isAbsolute() || baseDir == null ? p : baseDir.resolve(p).normalize();
  }

  private static OptimizerSpec readOptimizer(SpecReader r) {
    if (!r.section("job.optimizer")) {
      return new OptimizerSpec.Sgd(1, 0, false, 0);
    }
    String type = r.choice("job.optimizer.type", null, List.of("sgd", "adam"));
    if (type == null) {
      return new OptimizerSpec.Sgd(1, 0, false, 0);
    }
    double lr =
        r.number(
            "job.optimizer.learning-rate",
            null,
            v -> v > 0 && Double.isFinite(v),
            "a finite number > 0");
    double weightDecay =
        r.number(
            "job.optimizer.weight-decay",
            0.0,
            v -> v >= 0 && Double.isFinite(v),
            "a finite number >= 0");
    if (type.equals("sgd")) {
      r.rejectUnknownKeys(
          "job.optimizer", Set.of("type", "learning-rate", "momentum", "nesterov", "weight-decay"));
      double momentum =
          r.number("job.optimizer.momentum", 0.0, v -> v >= 0 && v < 1, "a number >= 0 and < 1");
      boolean nesterov = r.bool("job.optimizer.nesterov", false);
      if (nesterov && momentum == 0.0) {
        r.problem("job.optimizer.nesterov", "true", "needs job.optimizer.momentum > 0");
      }
      return new OptimizerSpec.Sgd(lr, momentum, nesterov, weightDecay);
    }
    r.rejectUnknownKeys(
        "job.optimizer",
        Set.of("type", "learning-rate", "beta1", "beta2", "epsilon", "weight-decay"));
    double beta1 =
        r.number("job.optimizer.beta1", 0.9, v -> v >= 0 && v < 1, "a number >= 0 and < 1");
    double beta2 =
        r.number("job.optimizer.beta2", 0.999, v -> v >= 0 && v < 1, "a number >= 0 and < 1");
    double epsilon =
        r.number(
            "job.optimizer.epsilon", 1e-8, v -> v > 0 && Double.isFinite(v), "a finite number > 0");
    return new OptimizerSpec.Adam(lr, beta1, beta2, epsilon, weightDecay);
  }

  private static ScheduleSpec readSchedule(SpecReader r) {
    if (!r.has("job.schedule")) {
      return new ScheduleSpec.Constant();
    }
    if (!r.section("job.schedule")) {
      return new ScheduleSpec.Constant();
    }
    String type = r.choice("job.schedule.type", "constant", List.of("constant", "step", "cosine"));
    switch (type == null ? "constant" : type) {
      case "step":
        {
          r.rejectUnknownKeys("job.schedule", Set.of("type", "every-epochs", "gamma"));
          int every =
              r.wholeNumberInt("job.schedule.every-epochs", null, v -> v > 0, "a whole number > 0");
          double gamma =
              r.number("job.schedule.gamma", 0.1, v -> v > 0 && v <= 1, "a number > 0 and <= 1");
          return new ScheduleSpec.Step(every, gamma);
        }
      case "cosine":
        {
          r.rejectUnknownKeys("job.schedule", Set.of("type", "final-learning-rate"));
          double end =
              r.number(
                  "job.schedule.final-learning-rate",
                  0.0,
                  v -> v >= 0 && Double.isFinite(v),
                  "a finite number >= 0");
          return new ScheduleSpec.Cosine(end);
        }
      default:
        r.rejectUnknownKeys("job.schedule", Set.of("type"));
        return new ScheduleSpec.Constant();
    }
  }

  private static TrainingLength readLength(SpecReader r) {
    boolean epochs = r.has("job.epochs");
    boolean rounds = r.has("job.rounds");
    if (epochs == rounds) {
      r.problem(
          epochs ? "job.epochs, job.rounds" : "job.epochs | job.rounds",
          epochs ? r.render("job.epochs") + ", " + r.render("job.rounds") : "missing",
          "give exactly one of epochs and rounds");
      return new TrainingLength.Rounds(1);
    }
    if (epochs) {
      return new TrainingLength.Epochs(
          r.wholeNumberInt(
              "job.epochs",
              null,
              v -> v > 0 && v <= 1_000_000,
              "a whole number from 1 to 1000000"));
    }
    return new TrainingLength.Rounds(
        r.wholeNumber(
            "job.rounds",
            null,
            v -> v > 0 && v <= 1_000_000_000L,
            "a whole number from 1 to 1000000000"));
  }

  private static CheckpointSpec readCheckpoint(SpecReader r) {
    if (!r.has("job.checkpoint")) {
      return new CheckpointSpec(50, CheckpointSpec.Mode.SNAPSHOT);
    }
    if (!r.section("job.checkpoint")) {
      return new CheckpointSpec(50, CheckpointSpec.Mode.SNAPSHOT);
    }
    r.rejectUnknownKeys("job.checkpoint", Set.of("every-rounds", "mode"));
    int every =
        r.wholeNumberInt(
            "job.checkpoint.every-rounds",
            50,
            v -> v >= 0,
            "a whole number >= 0 (0 = only at the end)");
    CheckpointSpec.Mode mode =
        CheckpointSpec.Mode.valueOf(
            upper(
                r.choice("job.checkpoint.mode", "snapshot", List.of("snapshot", "incremental")),
                "snapshot"));
    return new CheckpointSpec(every, mode);
  }
}
