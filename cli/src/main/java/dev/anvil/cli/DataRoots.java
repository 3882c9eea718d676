package dev.anvil.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The {@code --data-root} folders of a command, checked before any node starts. */
final class DataRoots {
  private DataRoots() {}

  /** The folders as absolute paths, or a {@link UserError} naming the first that is not one. */
  static List<Path> existing(List<Path> folders) {
    for (Path f : folders) {
      if (!Files.isDirectory(f)) {
        throw new UserError(
            "--data-root = "
                + f
                + ": not a folder; give folders that hold the"
                + " data files jobs will name");
      }
    }
    return folders.stream().map(f -> f.toAbsolutePath().normalize()).toList();
  }
}
