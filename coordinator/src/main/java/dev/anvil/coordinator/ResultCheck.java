package dev.anvil.coordinator;

/**
 * Whether a worker's result may be reduced: a gradient sum of the model's length with finite
 * values, a finite loss, a positive sample count. A result that fails is rejected whole, never
 * applied, since one NaN in a sum poisons every parameter it touches.
 */
final class ResultCheck {
  private ResultCheck() {}

  /** What is wrong with a result, or null when it may be reduced. */
  static String problem(float[] grad, double lossSum, long samples, int parameters) {
    if (grad == null) {
      return "no gradient";
    }
    if (grad.length != parameters) {
      return "a gradient of " + grad.length + " values, the model has " + parameters;
    }
    for (int i = 0; i < grad.length; i++) {
      if (!Float.isFinite(grad[i])) {
        return "gradient value " + grad[i] + " at index " + i;
      }
    }
    if (!Double.isFinite(lossSum)) {
      return "loss sum " + lossSum;
    }
    if (samples <= 0) {
      return "sample count " + samples;
    }
    return null;
  }
}
