package dev.anvil.chaos.scenario;

import java.time.Duration;

/**
 * When a fault fires: at a committed round, at a time after the job started, every so often a
 * number of times, or at random with a mean interval (exponential gaps drawn from the run's
 * seed) a number of times.
 */
public sealed interface Trigger {
  record AtRound(long round) implements Trigger {}

  record AtTime(Duration after) implements Trigger {}

  record Every(Duration start, Duration interval, int times) implements Trigger {}

  record Random(Duration start, Duration meanInterval, int times) implements Trigger {}
}
