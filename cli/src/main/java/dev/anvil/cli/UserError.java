package dev.anvil.cli;

/** A command-line mistake the user can fix; printed without a stack trace, exit code 2. */
final class UserError extends RuntimeException {
  UserError(String message) {
    super(message);
  }
}
