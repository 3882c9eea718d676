package dev.anvil.chaos.agent;

import dev.anvil.core.wire.AnvilSerializable;

/**
 * The in-process faults one node applies, all at once (a new value replaces the old; {@link #NONE}
 * heals). Fractions are of compute requests (drop, delay) or of results (bad), decided per (seed,
 * round, worker) so that a replay with the same seed decides the same way.
 *
 * @param stallMillis a straggler: each round's work (all its tree nodes) computed this much later
 * @param dropFraction requests dropped, as lost messages would be
 * @param delayFraction requests delivered {@code delayMillis} late
 * @param badKind "nan", "inf" or "wrong-length": results corrupted this way; "flip": one value's
 *     lowest bit flipped (silent corruption no check can see: only the checker's hash does); "" for
 *     none
 * @param badFraction results corrupted
 * @param checkpointStallMillis checkpoint writes held up this long before storing
 */
public record NodeFaults(
    long stallMillis,
    double dropFraction,
    double delayFraction,
    long delayMillis,
    String badKind,
    double badFraction,
    long checkpointStallMillis,
    long seed)
    implements AnvilSerializable {

  public static final NodeFaults NONE = new NodeFaults(0, 0, 0, 0, "", 0, 0, 0);

  public NodeFaults {
    check("drop fraction", dropFraction);
    check("delay fraction", delayFraction);
    check("bad fraction", badFraction);
    if (!badKind.isEmpty()
        && !badKind.equals("nan")
        && !badKind.equals("inf")
        && !badKind.equals("wrong-length")
        && !badKind.equals("flip")) {
      throw new IllegalArgumentException(
          "bad gradient kind = " + badKind + ": must be nan, inf, wrong-length or flip");
    }
  }

  private static void check(String what, double fraction) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException(what + " = " + fraction + ": must be in [0, 1]");
    }
  }

  public NodeFaults withStall(long millis) {
    return new NodeFaults(
        millis,
        dropFraction,
        delayFraction,
        delayMillis,
        badKind,
        badFraction,
        checkpointStallMillis,
        seed);
  }

  public NodeFaults withDrops(double fraction) {
    return new NodeFaults(
        stallMillis,
        fraction,
        delayFraction,
        delayMillis,
        badKind,
        badFraction,
        checkpointStallMillis,
        seed);
  }

  public NodeFaults withDelays(double fraction, long millis) {
    return new NodeFaults(
        stallMillis,
        dropFraction,
        fraction,
        millis,
        badKind,
        badFraction,
        checkpointStallMillis,
        seed);
  }

  public NodeFaults withBadGradients(String kind, double fraction) {
    return new NodeFaults(
        stallMillis,
        dropFraction,
        delayFraction,
        delayMillis,
        kind,
        fraction,
        checkpointStallMillis,
        seed);
  }

  public NodeFaults withCheckpointStall(long millis) {
    return new NodeFaults(
        stallMillis, dropFraction, delayFraction, delayMillis, badKind, badFraction, millis, seed);
  }

  public NodeFaults withSeed(long seed) {
    return new NodeFaults(
        stallMillis,
        dropFraction,
        delayFraction,
        delayMillis,
        badKind,
        badFraction,
        checkpointStallMillis,
        seed);
  }
}
