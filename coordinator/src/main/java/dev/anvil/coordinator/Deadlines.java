package dev.anvil.coordinator;

import java.time.Duration;

/**
 * When a round is late: a multiple of the typical round time (an exponentially weighted mean of
 * recent rounds), never under a floor, doubled at each miss of the same round. No deadline is set
 * until a round has been timed.
 */
final class Deadlines {
  private final Duration minimum;
  private final double multiplier;
  private double typicalRoundNanos;

  Deadlines(Duration minimum, double multiplier) {
    this.minimum = minimum;
    this.multiplier = multiplier;
  }

  /** A round took {@code wallNanos}. */
  void roundTook(long wallNanos) {
    typicalRoundNanos =
        typicalRoundNanos == 0 ? wallNanos : 0.9 * typicalRoundNanos + 0.1 * wallNanos;
  }

  /** Whether rounds have a deadline yet. */
  boolean armed() {
    return typicalRoundNanos > 0;
  }

  /** The deadline of attempt {@code attempt} (1 = the round's first) of a round. */
  Duration deadline(int attempt) {
    long nanos = Math.max(minimum.toNanos(), (long) (multiplier * typicalRoundNanos));
    return Duration.ofNanos(nanos << Math.min(attempt - 1, 10));
  }
}
