package dev.anvil.core.plane;

/**
 * A data-plane exchange failed: a peer closed its connection or sent what the round does not
 * expect, or the round's deadline passed. The message names the peer and the round; it never quotes
 * bytes a peer sent. {@link #peer()} is the worker the failure points at (its connection closed or
 * was refused, it sent a wrong frame, it alone was missing at the deadline), or -1.
 */
public final class PlaneException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int peer;

  public PlaneException(String message) {
    this(message, -1);
  }

  public PlaneException(String message, int peer) {
    super(message);
    this.peer = peer;
  }

  public PlaneException(String message, int peer, Throwable cause) {
    super(message, cause);
    this.peer = peer;
  }

  /** The worker the failure points at, by index in its group; -1 when it points at none. */
  public int peer() {
    return peer;
  }
}
