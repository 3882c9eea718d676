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
    Path checkpointDirectory) {

  public static CoordinatorSettings from(Config config) {
    Config c = config.getConfig("anvil.coordinator");
    Duration recruit = c.getDuration("recruit-timeout");
    int perWrite = c.getInt("max-rounds-per-write");
    Duration minInterval = c.getDuration("min-write-interval");
    if (minInterval.isNegative()) {
      throw new IllegalArgumentException(
          "anvil.coordinator.min-write-interval = " + minInterval + ": must be a duration >= 0");
    }
    if (recruit.isNegative() || recruit.isZero()) {
      throw new IllegalArgumentException(
          "anvil.coordinator.recruit-timeout = " + recruit + ": must be a positive duration");
    }
    if (perWrite < 1) {
      throw new IllegalArgumentException(
          "anvil.coordinator.max-rounds-per-write = " + perWrite + ": must be a whole number >= 1");
    }
    double multiplier = c.getDouble("deadline.multiplier");
    Duration minimum = c.getDuration("deadline.minimum");
    if (!(multiplier >= 1)) {
      throw new IllegalArgumentException(
          "anvil.coordinator.deadline.multiplier = " + multiplier + ": must be a number >= 1");
    }
    if (minimum.isNegative() || minimum.isZero()) {
      throw new IllegalArgumentException(
          "anvil.coordinator.deadline.minimum = " + minimum + ": must be a positive duration");
    }
    Duration ackTimeout = positive(c, "journal-ack-timeout");
    Duration passivate = positive(c, "passivate-finished-after");
    int ahead = c.getInt("max-rounds-ahead");
    if (ahead < 1) {
      throw new IllegalArgumentException(
          "anvil.coordinator.max-rounds-ahead = " + ahead + ": must be a whole number >= 1");
    }
    int keep = config.getInt("anvil.checkpoint.keep");
    if (keep < 1) {
      throw new IllegalArgumentException(
          "anvil.checkpoint.keep = "
              + keep
              + ": must be a whole number >= 1 (the newest checkpoint is always kept)");
    }
    int bad = c.getInt("bad-results-per-round");
    if (bad < 0) {
      throw new IllegalArgumentException(
          "anvil.coordinator.bad-results-per-round = " + bad + ": must be a whole number >= 0");
    }
    int probation = c.getInt("deadline.probation-rounds");
    if (probation < 1) {
      throw new IllegalArgumentException(
          "anvil.coordinator.deadline.probation-rounds = "
              + probation
              + ": must be a whole number >= 1");
    }
    return new CoordinatorSettings(
        recruit,
        perWrite,
        minInterval,
        multiplier,
        minimum,
        ackTimeout,
        passivate,
        ahead,
        keep,
        bad,
        probation,
        checkpointDirectory(config));
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
