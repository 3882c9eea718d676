package dev.anvil.chaos.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioTest {
  @TempDir Path dir;

  Path write(String body) throws IOException {
    Files.createDirectories(dir.resolve("jobs"));
    Files.writeString(dir.resolve("jobs/j.conf"), "job { }");
    Path f = dir.resolve("s.conf");
    Files.writeString(f, "scenario {\n name = s\n job = \"jobs/j.conf\"\n" + body + "\n}");
    return f;
  }

  @Test
  void everyShippedScenarioParses() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("..", "examples", "chaos"))) {
      List<Path> all = files.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
      assertTrue(all.size() >= 11, all::toString);
      for (Path p : all) {
        Scenario s = Scenario.parse(p);
        assertTrue(!s.faults().isEmpty(), p::toString);
        assertEquals(Schedule.of(s, 1000), Schedule.of(s, 1000), p::toString);
      }
    }
  }

  @Test
  void triggersAndDefaults() throws IOException {
    Scenario s =
        Scenario.parse(
            write(
                """
        nodes = 5, seed = 42
        faults = [
          { type = kill-node, target = node-2, at-round = 300, restart-after = 3s }
          { type = pause-node, at-time = 20s, duration = 15s }
          { type = kill-node, target = random, every = 20s, times = 10 }
          { type = straggler, target = worker, random { mean-interval = 30s, times = 3 } }
        ]"""));
    assertEquals(5, s.nodes());
    assertEquals(5, s.workers());
    assertEquals(new Trigger.AtRound(300), s.faults().get(0).trigger());
    assertEquals(java.time.Duration.ofSeconds(3), s.faults().get(0).duration());
    List<Schedule.Injection> plan = Schedule.of(s, 1000);
    assertEquals(1 + 1 + 10 + 3, plan.size());
    assertEquals(plan, Schedule.of(s.withSeed(42), 1000));
    assertNotEquals(plan, Schedule.of(s.withSeed(43), 1000)); // the random ones move
    long kills = plan.stream().filter(i -> i.plan() == 2).count();
    assertEquals(10, kills);
    assertEquals(
        200_000,
        plan.stream()
            .filter(i -> i.plan() == 2)
            .mapToLong(Schedule.Injection::atMillis)
            .max()
            .orElseThrow());
  }

  @Test
  void atProgressIsAShareOfTheJobsRounds() throws IOException {
    Scenario s =
        Scenario.parse(
            write(
                """
        faults = [
          { type = kill-node, target = worker, at-progress = 0.3, restart-after = 0s }
          { type = kill-node, target = coordinator, at-progress = 0, restart-after = 0s }
        ]"""));
    assertEquals(new Trigger.AtProgress(0.3), s.faults().get(0).trigger());
    assertEquals(
        List.of(1L, 300L),
        Schedule.of(s, 1000).stream().map(Schedule.Injection::round).sorted().toList());
    assertEquals(
        List.of(1L, 15L),
        Schedule.of(s, 50).stream().map(Schedule.Injection::round).sorted().toList());
  }

  @Test
  void entriesArePlannedOnlyOnTheirNodeCounts() throws IOException {
    Scenario s =
        Scenario.parse(
            write(
                """
        faults = [
          { type = kill-node, target = worker, at-round = 10, min-nodes = 3, max-nodes = 4 }
          { type = kill-node, target = worker, count = 2, at-round = 10, min-nodes = 5 }
        ]"""));
    assertEquals(List.of(1), s.plannedFaults().stream().map(FaultPlan::count).toList());
    assertEquals(
        List.of(2), s.withNodes(5).plannedFaults().stream().map(FaultPlan::count).toList());
    assertEquals(List.of(), s.withNodes(2).plannedFaults());
    assertEquals(List.of(), Schedule.of(s.withNodes(2), 100));
    assertEquals(
        List.of(1),
        Schedule.of(s.withNodes(7), 100).stream().map(Schedule.Injection::plan).toList());
    String e =
        assertThrows(
                ScenarioException.class,
                () ->
                    Scenario.parse(
                            write(
                                """
        faults = [ { type = kill-node, count = 2, at-round = 10, min-nodes = 4 } ]"""))
                        .withNodes(4))
            .getMessage();
    assertTrue(
        e.contains("--nodes = 4: ")
            && e.contains(
                "scenario.faults[0].count = 2: must be"
                    + " a whole number from 1 to 1 on 4 nodes (a majority must remain)"),
        e);
  }

  @Test
  void badFieldsAreNamed() throws IOException {
    String e1 =
        assertThrows(
                ScenarioException.class,
                () -> Scenario.parse(write("faults = [ { type = explode, at-round = 3 } ]")))
            .getMessage();
    assertTrue(e1.contains("scenario.faults[0].type = explode: must be one of"), e1);
    String e2 =
        assertThrows(
                ScenarioException.class,
                () ->
                    Scenario.parse(
                        write("faults = [ { type = kill-node, target = node-9, at-round = 3 } ]")))
            .getMessage();
    assertTrue(e2.contains("target = node-9: the scenario has nodes 1..3"), e2);
    String e3 =
        assertThrows(
                ScenarioException.class,
                () -> Scenario.parse(write("faults = [ { type = kill-node } ]")))
            .getMessage();
    assertTrue(e3.contains("give exactly one trigger"), e3);
    String e4 =
        assertThrows(
                ScenarioException.class,
                () ->
                    Scenario.parse(
                        write(
                            "faults = [ { type = drop-messages, fraction = 1.5, at-round = 3 } ]")))
            .getMessage();
    assertTrue(e4.contains("fraction = 1.5: must be a number from 0 to 1"), e4);
    String e5 =
        assertThrows(ScenarioException.class, () -> Scenario.parse(write("nodes = 0\nfaults = []")))
            .getMessage();
    assertTrue(e5.contains("scenario.nodes = 0: must be a whole number from 1 to 16"), e5);
    String e7 =
        assertThrows(
                ScenarioException.class,
                () ->
                    Scenario.parse(
                        write(
                            "faults = [ { type = pause-node, at-round = 3, await-rejoin = on } ]")))
            .getMessage();
    assertTrue(
        e7.contains("await-rejoin = on: only kill-node and leave-node take" + " await-rejoin"), e7);
    Files.writeString(dir.resolve("broken.conf"), "scenario { name = ");
    String e6 =
        assertThrows(ScenarioException.class, () -> Scenario.parse(dir.resolve("broken.conf")))
            .getMessage();
    assertTrue(e6.contains("not a readable HOCON file"), e6);
  }
}
