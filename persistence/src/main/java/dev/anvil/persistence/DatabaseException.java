package dev.anvil.persistence;

/**
 * The journal's database cannot be reached or used; the message shows the URL, never the password.
 */
public final class DatabaseException extends RuntimeException {
  public DatabaseException(String message, Throwable cause) {
    super(message, cause);
  }
}
