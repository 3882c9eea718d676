package dev.anvil.chaos.scenario;

/** A scenario file that cannot be run: the message names the file, the field and the fix. */
public final class ScenarioException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ScenarioException(String message) {
    super(message);
  }
}
