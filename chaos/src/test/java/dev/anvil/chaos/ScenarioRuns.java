package dev.anvil.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.scenario.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs a scenario of examples/chaos and asserts the verdict every chaos test needs. */
final class ScenarioRuns {
  private ScenarioRuns() {}

  static Path example(String name) {
    return Path.of("..", "examples", "chaos", name + ".conf");
  }

  static ChaosRun.Result runAndCheck(String name, long seed, Path dir) throws Exception {
    Scenario scenario = Scenario.parse(example(name)).withSeed(seed);
    ChaosRun.Result r = new ChaosRun(scenario, dir.resolve(name), System.out).run();
    Verdict v = r.verdict();
    assertEquals(
        Verdict.Validity.TRUE,
        v.valid(),
        () -> name + ": " + v.problems() + "\n" + read(dir.resolve(name).resolve("report.md")));
    assertTrue(v.hashEqual(), v::toString);
    assertEquals(0, v.lost());
    assertEquals(0, v.duplicated());
    assertEquals(0, v.outOfOrder());
    assertEquals(0, v.singleWriterViolations());
    assertTrue(Files.size(dir.resolve(name).resolve("timeline.png")) > 10_000);
    return r;
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return "(no " + p + ")";
    }
  }
}
