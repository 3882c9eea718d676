package dev.anvil.cli;

import dev.anvil.chaos.ChaosRun;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.scenario.Scenario;
import dev.anvil.chaos.scenario.ScenarioException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code anvil chaos}: runs one scenario (or a folder of them) against a fresh local cluster,
 * judges each run and writes its report. Exits 0 only when every verdict is true.
 */
@Command(
    name = "chaos",
    description = {
      "Run a chaos scenario (or a suite of them) on a fresh"
          + " local cluster: inject the scenario's faults while the job trains, check the journal's"
          + " history and the final hash against the fault-free reference, and write report.json,"
          + " report.md and timeline.png.",
      "Exit code 0 only when every verdict is true (1:" + " false or unknown, 2: bad input)."
    })
final class ChaosCommand implements Callable<Integer> {
  @Option(
      names = "--scenario",
      description = "Scenario file (HOCON), e.g." + " examples/chaos/kill-coordinator.conf.")
  Path scenario;

  @Option(
      names = "--suite",
      description =
          "Folder of scenario files: runs them all, in name" + " order, with a summary table.")
  Path suite;

  @Option(names = "--job", description = "Job file to train instead of the scenario's.")
  Path job;

  @Option(names = "--nodes", description = "Node JVMs instead of the scenario's.")
  Integer nodes;

  @Option(
      names = "--seed",
      description =
          "Seed of the fault schedule and targets instead of"
              + " the scenario's (a failing run replays exactly with its seed).")
  Long seed;

  @Option(
      names = "--report",
      description = "Folder for the reports (default:" + " anvil-runs/chaos-<time>).")
  Path report;

  @Override
  public Integer call() throws InterruptedException {
    if ((scenario == null) == (suite == null)) {
      throw new UserError("give either --scenario FILE or --suite DIR");
    }
    List<Scenario> scenarios = new ArrayList<>();
    try {
      for (Path file : files()) {
        Scenario s = Scenario.parse(file);
        if (job != null) {
          s = s.withJob(job);
        }
        if (nodes != null) {
          s = s.withNodes(nodes);
        }
        if (seed != null) {
          s = s.withSeed(seed);
        }
        scenarios.add(s);
      }
    } catch (ScenarioException e) {
      throw new UserError(e.getMessage());
    }
    Path out = report == null ? LocalCommand.runFolder("chaos") : report;
    List<ChaosRun.Result> results = new ArrayList<>();
    for (Scenario s : scenarios) {
      Path dir = scenarios.size() == 1 ? out : out.resolve(s.name());
      results.add(new ChaosRun(s, dir, System.out).run());
    }
    if (results.size() > 1) {
      System.out.println();
      System.out.println(summary(results));
      try {
        Files.writeString(out.resolve("summary.md"), summary(results));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + out.resolve("summary.md"), e);
      }
    }
    boolean allTrue = results.stream().allMatch(r -> r.verdict().valid() == Verdict.Validity.TRUE);
    System.out.println(
        allTrue ? "every verdict true" : "NOT every verdict true; see the" + " reports in " + out);
    return allTrue ? 0 : 1;
  }

  private List<Path> files() {
    if (scenario != null) {
      return List.of(scenario);
    }
    if (!Files.isDirectory(suite)) {
      throw new UserError("--suite = " + suite + ": not a folder of scenario files");
    }
    try (Stream<Path> list = Files.list(suite)) {
      List<Path> files = list.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
      if (files.isEmpty()) {
        throw new UserError("--suite = " + suite + ": no *.conf scenario files in it");
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + suite, e);
    }
  }

  static String summary(List<ChaosRun.Result> results) {
    StringBuilder sb =
        new StringBuilder(
            "| scenario | seed | verdict | rounds | lost | dup |"
                + " faults injected/survived | slowest recovery ms | hash | s |\n"
                + "|---|---|---|---|---|---|---|---|---|---|\n");
    for (ChaosRun.Result r : results) {
      Verdict v = r.verdict();
      long injected = v.faults().values().stream().mapToLong(Verdict.FaultCount::injected).sum();
      long survived = v.faults().values().stream().mapToLong(Verdict.FaultCount::survived).sum();
      long slowest =
          v.recoveries().stream()
              .mapToLong(t -> Math.max(t.millis(), t.stallMillis()))
              .max()
              .orElse(-1);
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %s | %d/%d | %d | %d | %d/%d | %s | %s" + " | %.0f |%n",
              r.scenario().name(),
              r.scenario().seed(),
              v.valid(),
              v.roundsCommitted(),
              v.roundsExpected(),
              v.lost(),
              v.duplicated(),
              injected,
              survived,
              slowest < 0 ? "-" : slowest,
              v.hashEqual() ? "equal" : "DIFFERENT",
              r.seconds()));
    }
    return sb.toString();
  }
}
