package dev.anvil.core.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * The data check of a job from elsewhere: its path must be absolute and, with every symbolic link
 * resolved, lie in one of the node's allowed folders. A path outside them and one that does not
 * exist get the same answer, so that the check reveals nothing about the rest of the disk.
 */
final class DataRoots {
  private static final String KEY = "job.data.path";

  private DataRoots() {}

  /** The real path to read, or {@code path} itself with a problem recorded. */
  static Path check(SpecReader r, Path path, SpecRules rules, boolean folder) {
    if (!r.has(KEY)) {
      return path;
    }
    String what = folder ? "a folder of IDX files" : "a CSV file";
    if (rules.allowedDataRoots().isEmpty()) {
      r.problem(
          KEY,
          r.render(KEY),
          "this node reads no data files for jobs sent to it"
              + " (anvil.data.allowed-roots names no existing folder); use synthetic data, or ask"
              + " its operator to allow a folder");
      return path;
    }
    String roots =
        rules.allowedDataRoots().stream().map(Path::toString).collect(Collectors.joining(", "));
    if (!path.isAbsolute()) {
      r.problem(
          KEY,
          r.render(KEY),
          "must be an absolute path in a job sent to a node: "
              + what
              + " in "
              + roots
              + " (anvil.data.allowed-roots)");
      return path;
    }
    Path real;
    try {
      real = path.toRealPath();
    } catch (IOException | SecurityException e) {
      real = null;
    }
    if (real == null || !rules.allows(real)) {
      r.problem(
          KEY,
          r.render(KEY),
          "must be "
              + what
              + " in "
              + roots
              + " (anvil.data.allowed-roots), symbolic links resolved");
      return path;
    }
    if (folder ? !Files.isDirectory(real) : !Files.isRegularFile(real)) {
      r.problem(KEY, r.render(KEY), "must be " + what + ", but it is not");
    }
    return real;
  }
}
