package dev.anvil.core.spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Reads a job's {@code job.data} section: IDX files, a CSV file or synthetic data. A relative path
 * is resolved against the job file's folder; the data of a job from elsewhere must lie in the
 * node's allowed folders ({@link DataRoots}), and its spec then holds the real path that was
 * checked.
 */
final class DataSection {
  private DataSection() {}

  /** The data, or a placeholder with problems recorded in {@code r}. */
  static DataSpec read(SpecReader r, Path baseDir, SpecRules rules, boolean untrusted) {
    if (!r.section("job.data")) {
      return new DataSpec.Synthetic(0, 0, 0, 0, 0);
    }
    String type = r.choice("job.data.type", null, List.of("idx", "csv", "synthetic"));
    if (type == null) {
      return new DataSpec.Synthetic(0, 0, 0, 0, 0);
    }
    switch (type) {
      case "idx":
        return readIdx(r, baseDir, rules, untrusted);
      case "csv":
        return readCsv(r, baseDir, rules, untrusted);
      default:
        return readSynthetic(r);
    }
  }

  private static DataSpec readIdx(SpecReader r, Path baseDir, SpecRules rules, boolean untrusted) {
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

  private static DataSpec readCsv(SpecReader r, Path baseDir, SpecRules rules, boolean untrusted) {
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

  private static DataSpec readSynthetic(SpecReader r) {
    r.rejectUnknownKeys(
        "job.data", Set.of("type", "samples", "features", "classes", "seed", "test-fraction"));
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

  private static double testFraction(SpecReader r) {
    return r.number(
        "job.data.test-fraction", 0.1, v -> v > 0 && v < 1, "a number strictly between 0 and 1");
  }

  /** {@code path} against {@code baseDir} (none for a job from elsewhere); "" is the folder. */
  private static Path resolve(Path baseDir, String path) {
    Path p = Path.of(path.isEmpty() ? "." : path);
    return p.isAbsolute() || baseDir == null ? p : baseDir.resolve(p).normalize();
  }
}
