package dev.anvil.core.spec;

/**
 * One thing wrong with a job spec: where it is, what was found there, and what is allowed.
 *
 * @param path the HOCON path of the field ({@code job.optimizer.learning-rate}) or the file
 * @param value the value found, rendered as the user wrote it ({@code -0.1}), or "missing"
 * @param expected what would have been accepted, in words
 */
public record Problem(String path, String value, String expected) {
  @Override
  public String toString() {
    return path + " = " + value + ": " + expected;
  }
}
