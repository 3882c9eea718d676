package dev.anvil.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.chaos.check.Verdict;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The chaos subset outside -Pchaos: kill a worker node, kill the coordinator's node, a
 * majority/minority partition, each a real 3-node cluster of separate JVMs judged by the checker
 * against the fault-free reference. The partition runs in every build; the two kills (tag {@code
 * long}: the runtime module's WorkerLossTest and CoordinatorLossTest cause the same faults without
 * the checker, ChaosCommandTest runs the checker) in -Pfull, which CI runs. The whole suite runs
 * with -Pchaos (ChaosSuiteTest).
 */
class ShortSuiteTest {
  /** Reports stay in target/chaos-reports for a look after the build. */
  private final Path dir = Path.of("target", "chaos-reports");

  @Test
  @Tag("long")
  void killWorker() throws Exception {
    Verdict v = ScenarioRuns.runAndCheck("kill-worker", 11, dir).verdict();
    assertEquals(1, v.faults().get("kill-node").injected());
    assertEquals(1, v.faults().get("kill-node").survived());
  }

  @Test
  @Tag("long")
  void killCoordinator() throws Exception {
    Verdict v = ScenarioRuns.runAndCheck("kill-coordinator", 12, dir).verdict();
    assertEquals(1, v.faults().get("kill-node").survived());
    assertTrue(v.recoveries().get(0).millis() < 30_000, v.recoveries()::toString);
  }

  @Test
  void partition() throws Exception {
    Verdict v = ScenarioRuns.runAndCheck("partition", 13, dir).verdict();
    assertEquals(1, v.faults().get("partition").injected());
    assertEquals(1, v.faults().get("partition").healed());
  }
}
