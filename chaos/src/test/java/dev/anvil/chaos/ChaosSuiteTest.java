package dev.anvil.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.scenario.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole chaos suite (-Pchaos): every scenario of examples/chaos, run three times with different
 * seeds; each verdict must be true, each hash the reference's. Reports go to
 * target/chaos-reports/seed-N/, with a summary.md per seed.
 */
@Tag("chaos")
class ChaosSuiteTest {
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {101, 202, 303})
  void everyScenarioHoldsWithSeed(long seed) throws Exception {
    List<Path> files;
    try (Stream<Path> list = Files.list(Path.of("..", "examples", "chaos"))) {
      files = list.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
    }
    Path dir = Path.of("target", "chaos-reports", "seed-" + seed);
    List<String> failures = new ArrayList<>();
    StringBuilder summary =
        new StringBuilder("| scenario | verdict | hash | problems |\n" + "|---|---|---|---|\n");
    for (Path file : files) {
      Scenario s = Scenario.parse(file).withSeed(seed);
      Verdict v = new ChaosRun(s, dir.resolve(s.name()), System.out).run().verdict();
      summary
          .append("| ")
          .append(s.name())
          .append(" | ")
          .append(v.valid())
          .append(" | ")
          .append(v.hashEqual() ? "equal" : "DIFFERENT")
          .append(" | ")
          .append(String.join("; ", v.problems()))
          .append(" |\n");
      if (v.valid() != Verdict.Validity.TRUE || !v.hashEqual()) {
        failures.add(s.name() + ": " + v.valid() + " " + v.problems());
      }
    }
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("summary.md"), summary.toString());
    assertTrue(failures.isEmpty(), () -> "seed " + seed + ":\n" + String.join("\n", failures));
    assertEquals(files.size(), summary.toString().lines().count() - 2);
  }
}
