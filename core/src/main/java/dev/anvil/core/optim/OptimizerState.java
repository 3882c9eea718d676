package dev.anvil.core.optim;

import java.util.Arrays;

/**
 * Everything an optimizer carries from one step to the next, as a plain value a checkpoint can
 * hold: the number of steps taken and its per-parameter slots (momentum; or Adam's two moments).
 * Owned by one optimizer at a time; {@link #copy()} before handing it elsewhere.
 */
public record OptimizerState(long steps, float[][] slots) {

  public static OptimizerState initial(int slotCount, int parameters) {
    float[][] slots = new float[slotCount][];
    for (int i = 0; i < slotCount; i++) {
      slots[i] = new float[parameters];
    }
    return new OptimizerState(0, slots);
  }

  /** The same slots, one more step taken. */
  public OptimizerState advanced() {
    return new OptimizerState(steps + 1, slots);
  }

  public OptimizerState copy() {
    float[][] c = new float[slots.length][];
    for (int i = 0; i < slots.length; i++) {
      c[i] = slots[i].clone();
    }
    return new OptimizerState(steps, c);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OptimizerState s && s.steps == steps && Arrays.deepEquals(s.slots, slots);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(steps) * 31 + Arrays.deepHashCode(slots);
  }

  @Override
  public String toString() {
    return "OptimizerState[steps=" + steps + ", slots=" + slots.length + "]";
  }
}
