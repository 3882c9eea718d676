package dev.anvil.chaos.scenario;

import java.time.Duration;

/**
 * When a fault fires: at a committed round, once a share of the job's rounds is committed, at a
 * time after the job started, every so often a number of times, or at random with a mean interval
 * (exponential gaps drawn from the run's seed) a number of times.
 */
public sealed interface Trigger {
  record AtRound(long round) implements Trigger {}

  /**
   * Once {@code fraction} (0..1) of the job's rounds are committed: the same scenario fits jobs of
   * any length. The round is the reference's round count times it, at least 1.
   */
  record AtProgress(double fraction) implements Trigger {
    public long round(long jobRounds) {
      return Math.max(1, (long) (jobRounds * fraction));
    }
  }

  record AtTime(Duration after) implements Trigger {}

  record Every(Duration start, Duration interval, int times) implements Trigger {}

  record Random(Duration start, Duration meanInterval, int times) implements Trigger {}
}
