package dev.anvil.chaos.agent;

import dev.anvil.core.fault.FaultHooks;
import dev.anvil.core.random.SplitMix64;
import java.util.Arrays;

/**
 * The chaos module's {@link FaultHooks}: does what the node's current {@link NodeFaults} say. Each
 * decision is a pure function of (seed, what, round, worker), so a replay decides alike.
 */
final class AgentHooks implements FaultHooks {
  private volatile NodeFaults faults = NodeFaults.NONE;

  void set(NodeFaults faults) {
    this.faults = faults;
  }

  NodeFaults current() {
    return faults;
  }

  @Override
  public Delivery delivery(String jobId, long round, String worker) {
    NodeFaults f = faults;
    if (f.dropFraction() > 0 && draw(f.seed(), 1, round, worker) < f.dropFraction()) {
      return Delivery.DROP;
    }
    if (f.delayFraction() > 0 && draw(f.seed(), 2, round, worker) < f.delayFraction()) {
      return Delivery.DELAY;
    }
    return Delivery.DELIVER;
  }

  @Override
  public long delayMillis(String jobId, long round, String worker) {
    return faults.delayMillis();
  }

  @Override
  public long stallMillis(String jobId, long round, String worker) {
    return faults.stallMillis();
  }

  @Override
  public float[] gradient(String jobId, long round, String worker, float[] computed) {
    NodeFaults f = faults;
    if (f.badKind().isEmpty()
        || f.badFraction() == 0
        || draw(f.seed(), 3, round, worker) >= f.badFraction()) {
      return computed;
    }
    switch (f.badKind()) {
      case "wrong-length":
        return Arrays.copyOf(computed, Math.max(0, computed.length - 1));
      case "flip":
        {
          float[] bad = computed.clone();
          int i = (int) (round % bad.length);
          bad[i] = Float.intBitsToFloat(Float.floatToRawIntBits(bad[i]) ^ 1);
          return bad;
        }
      case "inf":
        {
          float[] bad = computed.clone();
          bad[(int) (round % bad.length)] = Float.POSITIVE_INFINITY;
          return bad;
        }
      default:
        {
          float[] bad = computed.clone();
          bad[(int) (round % bad.length)] = Float.NaN;
          return bad;
        }
    }
  }

  @Override
  public long checkpointStallMillis(String jobId, long round) {
    return faults.checkpointStallMillis();
  }

  /** A uniform number in [0, 1) from (seed, what, round, worker). */
  static double draw(long seed, int what, long round, String worker) {
    long x =
        SplitMix64.mix64(
            seed ^ SplitMix64.mix64(what * 0x9E3779B97F4A7C15L + round) ^ worker.hashCode());
    return (x >>> 11) * 0x1.0p-53;
  }
}
