package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ResultCheckTest {
  @Test
  void aFiniteGradientOfTheModelsLengthPasses() {
    assertNull(ResultCheck.problem(new float[] {1f, -2f, 0f}, 3.5, 8, 3));
  }

  @Test
  void nonFiniteValuesWrongLengthsAndBadCountsAreNamed() {
    assertEquals(
        "gradient value NaN at index 1",
        ResultCheck.problem(new float[] {1f, Float.NaN, 0f}, 1, 8, 3));
    assertEquals(
        "gradient value Infinity at index 2",
        ResultCheck.problem(new float[] {1f, 0f, Float.POSITIVE_INFINITY}, 1, 8, 3));
    assertEquals(
        "gradient value -Infinity at index 0",
        ResultCheck.problem(new float[] {Float.NEGATIVE_INFINITY, 0f, 0f}, 1, 8, 3));
    assertEquals(
        "a gradient of 2 values, the model has 3",
        ResultCheck.problem(new float[] {1f, 0f}, 1, 8, 3));
    assertEquals("no gradient", ResultCheck.problem(null, 1, 8, 3));
    assertEquals("loss sum NaN", ResultCheck.problem(new float[3], Double.NaN, 8, 3));
    assertEquals("sample count 0", ResultCheck.problem(new float[3], 1, 0, 3));
  }
}
