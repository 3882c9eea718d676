package dev.anvil.core.data;

/** Data that cannot be used: a missing file, a bad header, a truncated file, a bad value. */
public final class DataException extends RuntimeException {
  public DataException(String message) {
    super(message);
  }

  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
