package dev.anvil.core.spec;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Validates a parsed job tree into a {@link JobSpec}: the {@code job} section's own fields (name,
 * seed, clipping, batch and logical shards, length, kernel, checkpoints) here, its model, data and
 * optimizer sections in {@link ModelSection}, {@link DataSection} and {@link OptimizerSection}, and
 * the size limits in {@link Sizes}. Every field is read, so that a {@link JobSpecException} lists
 * every problem at once.
 */
final class JobSection {
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

  private JobSection() {}

  /**
   * The job of {@code config}, or a {@link JobSpecException} from {@code origin} listing every
   * problem. {@code untrusted}: a job from elsewhere, whose problems do not quote its values and
   * whose data and model class {@code rules} must allow.
   */
  static JobSpec validate(
      Config config, String origin, Path baseDir, SpecRules rules, boolean untrusted) {
    SpecReader r = new SpecReader(config, !untrusted);
    if (!r.section("job")) {
      throw new JobSpecException(origin, r.problems());
    }
    r.rejectUnknownKeys("job", JOB_KEYS);

    String name = readName(r);
    long seed = r.wholeNumber("job.seed", 0L, v -> true, "a whole number");
    ModelSpec model = ModelSection.read(r, rules, untrusted);
    DataSpec data = DataSection.read(r, baseDir, rules, untrusted);
    Sizes.check(r, model, data, rules);
    OptimizerSpec optimizer = OptimizerSection.readOptimizer(r);
    ScheduleSpec schedule = OptimizerSection.readSchedule(r);
    double clipNorm =
        r.number(
            "job.clip-norm",
            0.0,
            v -> v >= 0 && Double.isFinite(v),
            "a finite number >= 0 (0 turns clipping off)");
    int logicalShards =
        r.wholeNumberInt(
            "job.logical-shards", null, v -> v > 0 && v <= 4096, "a whole number from 1 to 4096");
    int batchSize = readBatchSize(r, logicalShards);
    TrainingLength length = readLength(r);
    KernelChoice kernel =
        r.choice("job.kernel", "auto", List.of("auto", "native", "java"), KernelChoice.class);
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

  private static String readName(SpecReader r) {
    String name = r.string("job.name", null);
    if (r.has("job.name") && !name.matches(NAME_PATTERN)) {
      r.problem(
          "job.name",
          r.render("job.name"),
          "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    return name;
  }

  /** The global batch, which every logical shard must contribute to equally. */
  private static int readBatchSize(SpecReader r, int logicalShards) {
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
    return batchSize;
  }

  private static String nearestMultiples(int batch, int shards) {
    int below = batch / shards * shards;
    int above = below + shards;
    return below > 0 ? below + " or " + above : String.valueOf(above);
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
        r.choice(
            "job.checkpoint.mode",
            "snapshot",
            List.of("snapshot", "incremental"),
            CheckpointSpec.Mode.class);
    return new CheckpointSpec(every, mode);
  }
}
