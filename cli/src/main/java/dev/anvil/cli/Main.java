package dev.anvil.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code anvil} command; it and every subcommand take --help (and --version). */
@Command(
    name = "anvil",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT,
    versionProvider = Main.Version.class,
    description = "Fault-tolerant, deterministic data-parallel training on Apache Pekko.",
    subcommands = {
      TrainCommand.class,
      LocalCommand.class,
      NodeCommand.class,
      DemoCommand.class,
      ValidateCommand.class,
      ApiCommands.Submit.class,
      ApiCommands.Status.class,
      ApiCommands.Pause.class,
      ApiCommands.Resume.class,
      ApiCommands.Cancel.class,
      JobCommands.Checkpoints.class,
      ChaosCommand.class,
      CertsCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  /** Exit code for input the user must fix: an invalid job spec or unusable data. */
  static final int BAD_INPUT = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int run(String... args) {
    return new CommandLine(new Main()).setExecutionExceptionHandler(new Failures()).execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"anvil " + (v == null ? "development build" : v)};
    }
  }
}
