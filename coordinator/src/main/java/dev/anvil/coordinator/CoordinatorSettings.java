package dev.anvil.coordinator;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** {@code anvil.coordinator} settings, read once and checked. */
public record CoordinatorSettings(
    Duration recruitTimeout,
    int maxRoundsPerWrite,
    Duration minWriteInterval,
    double deadlineMultiplier,
    Duration minimumDeadline,
    Duration journalAckTimeout,
    Duration passivateFinishedAfter,
    int maxRoundsAhead,
    int keepCheckpoints,
    int badResultsPerRound,
    int suspectProbation,
    Path checkpointDirectory,
    boolean dataPlane) {

  public static CoordinatorSettings from(Config config) {
    Config c = config.getConfig("anvil.coordinator");
    Duration minInterval = c.getDuration("min-write-interval");
    if (minInterval.isNegative()) {
      throw new IllegalArgumentException(
          "anvil.coordinator.min-write-interval = " + minInterval + ": must be a duration >= 0");
    }
    double multiplier = c.getDouble("deadline.multiplier");
    if (!(multiplier >= 1)) {
      throw new IllegalArgumentException(
          "anvil.coordinator.deadline.multiplier = " + multiplier + ": must be a number >= 1");
    }
    int keep = config.getInt("anvil.checkpoint.keep");
    if (keep < 1) {
      throw new IllegalArgumentException(
          "anvil.checkpoint.keep = "
              + keep
              + ": must be a whole number >= 1 (the newest checkpoint is always kept)");
    }
    return new CoordinatorSettings(
        positive(c, "recruit-timeout"),
        atLeast(c, "max-rounds-per-write", 1),
        minInterval,
        multiplier,
        positive(c, "deadline.minimum"),
        positive(c, "journal-ack-timeout"),
        positive(c, "passivate-finished-after"),
        atLeast(c, "max-rounds-ahead", 1),
        keep,
        atLeast(c, "bad-results-per-round", 0),
        atLeast(c, "deadline.probation-rounds", 1),
        checkpointDirectory(config),
        c.getBoolean("data-plane"));
  }

  /** The whole number at {@code key} of anvil.coordinator, checked to be at least {@code min}. */
  private static int atLeast(Config c, String key, int min) {
    int n = c.getInt(key);
    if (n < min) {
      throw new IllegalArgumentException(
          "anvil.coordinator." + key + " = " + n + ": must be a whole number >= " + min);
    }
    return n;
  }

  /** {@code anvil.checkpoint.directory}: null (empty) keeps checkpoint bytes in the table. */
  static Path checkpointDirectory(Config config) {
    String text = config.getString("anvil.checkpoint.directory").strip();
    if (text.isEmpty()) {
      return null;
    }
    Path dir = Path.of(text).toAbsolutePath().normalize();
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "anvil.checkpoint.directory = "
              + text
              + ": "
              + dir
              + " exists and is not a directory (give a directory every node can reach, or \"\""
              + " for the table)");
    }
    return dir;
  }

  private static Duration positive(Config c, String key) {
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(
          "anvil.coordinator." + key + " = " + d + ": must be a positive duration");
    }
    return d;
  }
}
