package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.anvil.chaos.scenario.FaultPlan;
import dev.anvil.chaos.scenario.Scenario;
import dev.anvil.chaos.scenario.Schedule;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chaos scenario that {@code anvil demo} ships: what it kills, when, on how many nodes. */
class DemoScenarioTest {
  @TempDir Path dir;

  /** The shipped scenario, written next to a job file as the demo writes it. */
  private Scenario demo() throws IOException {
    Files.writeString(dir.resolve("job.conf"), "job { }");
    Path file = dir.resolve("scenario.conf");
    try (InputStream in = DemoScenarioTest.class.getResourceAsStream("/demo/scenario.conf")) {
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return Scenario.parse(file);
  }

  /** Each injection in words, in firing order, for a job of 1000 rounds. */
  private static List<String> kills(Scenario s) {
    return Schedule.of(s, 1000).stream()
        .map(
            i -> {
              FaultPlan p = s.faults().get(i.plan());
              return p.type()
                  + " "
                  + p.target()
                  + " x"
                  + p.count()
                  + " at "
                  + i.round()
                  + " restart after "
                  + p.duration().toMillis()
                  + " ms"
                  + (p.awaitRejoin() ? ", await rejoin" : "");
            })
        .toList();
  }

  @Test
  void threeOrFourNodesLoseAWorkersNodeThenTheCoordinatorsOneAtATime() throws IOException {
    List<String> expected =
        List.of(
            "kill-node worker x1 at 300 restart after 0 ms, await rejoin",
            "kill-node coordinator x1 at 600 restart after 0 ms, await rejoin");
    assertEquals(expected, kills(demo()));
    assertEquals(expected, kills(demo().withNodes(4)));
  }

  @Test
  void fiveNodesOrMoreLoseTwoAtOnce() throws IOException {
    List<String> expected =
        List.of(
            "kill-node worker x2 at 300 restart after 0 ms, await rejoin",
            "kill-node coordinator x2 at 600 restart after 0 ms, await rejoin");
    assertEquals(expected, kills(demo().withNodes(5)));
    assertEquals(expected, kills(demo().withNodes(8)));
  }

  @Test
  void oneOrTwoNodesLoseNothing() throws IOException {
    assertEquals(List.of(), kills(demo().withNodes(2)));
    assertEquals(List.of(), demo().withNodes(1).plannedFaults());
    assertEquals(
        3, demo().withNodes(2).faults().stream().mapToInt(FaultPlan::minNodes).min().orElseThrow());
  }
}
