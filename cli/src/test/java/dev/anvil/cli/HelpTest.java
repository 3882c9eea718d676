package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.cli.MainTest.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command answers --help with its usage; anvil node's help says how the database works. */
class HelpTest {
  /** Every command's words, e.g. [checkpoint, export], found from the command tree. */
  private static List<List<String>> commands(CommandLine command, List<String> path) {
    List<List<String>> all = new ArrayList<>();
    for (var sub : command.getSubcommands().entrySet()) {
      List<String> words = new ArrayList<>(path);
      words.add(sub.getKey());
      all.add(words);
      all.addAll(commands(sub.getValue(), words));
    }
    return all;
  }

  @Test
  void everyCommandAnswersHelpWithItsUsage() {
    List<List<String>> commands = commands(new CommandLine(new Main()), List.of());
    assertTrue(commands.contains(List.of("status")), commands::toString);
    assertTrue(commands.contains(List.of("checkpoint", "export")), commands::toString);
    for (List<String> words : commands) {
      List<String> args = new ArrayList<>(words);
      args.add("--help");
      Outcome o = MainTest.anvil(args.toArray(String[]::new));
      assertEquals(0, o.code(), () -> args + ": " + o.err());
      assertTrue(
          o.out().contains("Usage: anvil " + String.join(" ", words) + " ["),
          () -> args + ": " + o.out());
      assertEquals("", o.err(), args::toString);
    }
  }

  @Test
  void nodeHelpSaysDbOrHostDbAndWhereThePasswordComesFrom() {
    Outcome o = MainTest.anvil("node", "--help");
    assertEquals(0, o.code(), o.err());
    String help = o.out().replaceAll("\\s+", " ");
    assertFalse(help.contains("(required)"), help);
    assertTrue(help.contains("--db=URL JDBC URL of the journal's PostgreSQL"), help);
    assertTrue(
        help.contains("the password comes from ANVIL_DB_PASSWORD. Give --db or" + " --host-db."),
        help);
    assertTrue(help.contains("--host-db=DIR"), help);
  }

  @Test
  void theHostedDatabaseLineGivesUrlUserDatabaseAndThePasswordsVariable() {
    assertEquals(
        "journal database hosted here (data in /var/lib/anvil-db): URL"
            + " jdbc:postgresql://10.0.0.1:5432/anvil, user anvil, database anvil. Start the other"
            + " nodes with --db jdbc:postgresql://10.0.0.1:5432/anvil --db-user anvil and the same"
            + " password in their environment: ANVIL_DB_PASSWORD",
        NodeCommand.hostedDatabaseLine(
            Path.of("/var/lib/anvil-db"),
            "jdbc:postgresql://10.0.0.1:5432/anvil",
            "anvil",
            "anvil"));
  }
}
