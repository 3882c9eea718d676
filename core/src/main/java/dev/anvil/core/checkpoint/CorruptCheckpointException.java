package dev.anvil.core.checkpoint;

/** Bytes that are not a checkpoint this Anvil can restore; the message says why. */
public final class CorruptCheckpointException extends RuntimeException {
  public CorruptCheckpointException(String message) {
    super(message);
  }
}
