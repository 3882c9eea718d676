package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.anvil.core.optim.LearningRateSchedule;
import dev.anvil.core.optim.Sgd;
import dev.anvil.core.spec.ScheduleSpec;
import org.junit.jupiter.api.Test;

/**
 * The update's check for a non-finite gradient, without clipping: every NaN and infinity is found
 * wherever it sits in a block (the check is an OR of exponent carries), the largest finite values
 * are not, and the parameters stay as they were when it throws.
 */
class ParameterUpdateTest {
  private static final int LENGTH = 3 * ParameterUpdate.NORM_BLOCK + 5;

  private static ParameterUpdate update() {
    return new ParameterUpdate(
        new Sgd(0, false, 0),
        new LearningRateSchedule(new ScheduleSpec.Constant(), 0.1, 10, 10),
        0,
        4);
  }

  private static TrainingState state() {
    return new TrainingState(0, new float[LENGTH], new Sgd(0, false, 0).initialState(LENGTH));
  }

  @Test
  void everyNonFiniteValueIsFoundWhereverItIs() {
    float[] bad = {
      Float.NaN,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY,
      Float.intBitsToFloat(0x7FC00001),
      Float.intBitsToFloat(0xFF800001)
    };
    int[] at = {0, 1, ParameterUpdate.NORM_BLOCK - 1, ParameterUpdate.NORM_BLOCK, LENGTH - 1};
    for (float value : bad) {
      for (int i : at) {
        float[] g = new float[LENGTH];
        g[i] = value;
        TrainingState s = state();
        float[] before = s.params().clone();
        assertThrows(
            DivergedException.class,
            () -> update().apply(s, new GradientSum(g, 1.0, 4)),
            value + " at " + i);
        assertArrayEquals(before, s.params());
      }
    }
  }

  @Test
  void theLargestFiniteValuesAreNotNonFinite() {
    float[] g = new float[LENGTH];
    g[7] = Float.MAX_VALUE;
    g[8] = -Float.MAX_VALUE;
    g[9] = Float.MIN_VALUE;
    g[10] = -0.0f;
    assertDoesNotThrow(() -> update().apply(state(), new GradientSum(g, 1.0, 4)));
  }
}
