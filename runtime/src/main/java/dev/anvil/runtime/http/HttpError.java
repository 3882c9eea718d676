package dev.anvil.runtime.http;

/**
 * A request the API refuses, answered with {@link #status()} and {"error": message}. The message
 * names what is wrong and what is allowed; it never quotes what the client sent.
 */
final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  HttpError(int status, String message) {
    super(message);
    this.status = status;
  }

  int status() {
    return status;
  }
}
