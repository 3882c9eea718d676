package dev.anvil.cli;

import dev.anvil.core.data.DataException;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.train.DivergedException;
import picocli.CommandLine;

/**
 * Turns the failures a user can fix into a message and exit code 2, without a stack trace; anything
 * else is a bug and keeps its trace.
 */
final class Failures implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(
      Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    if (e instanceof JobSpecException || e instanceof DataException || e instanceof UserError) {
      cmd.getErr().println("anvil: " + e.getMessage());
      return Main.BAD_INPUT;
    }
    if (e instanceof IllegalArgumentException) {
      cmd.getErr().println("anvil: " + e.getMessage());
      return Main.BAD_INPUT;
    }
    if (e instanceof DivergedException
        || e instanceof IllegalStateException
        || e instanceof ClusterRun.JobFailure
        || e instanceof dev.anvil.persistence.DatabaseException) {
      cmd.getErr().println("anvil: " + e.getMessage());
      return 1;
    }
    cmd.getErr().println("anvil: unexpected failure, please report it with this trace:");
    e.printStackTrace(cmd.getErr());
    return 1;
  }
}
