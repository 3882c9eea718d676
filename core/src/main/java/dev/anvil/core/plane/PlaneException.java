package dev.anvil.core.plane;

/**
 * A data-plane exchange failed: a peer closed its connection or sent what the round does not
 * expect, or the round's deadline passed. The message names the peer and the round; it never quotes
 * bytes a peer sent.
 */
public final class PlaneException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PlaneException(String message) {
    super(message);
  }

  public PlaneException(String message, Throwable cause) {
    super(message, cause);
  }
}
