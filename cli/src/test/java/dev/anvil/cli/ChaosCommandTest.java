package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.cli.MainTest.Outcome;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code anvil chaos}: bad input is named, and the exit code is 0 only for true verdicts. */
class ChaosCommandTest {
  @TempDir Path dir;

  @Test
  void badInputIsRefusedWithExitCode2() throws Exception {
    Outcome neither = MainTest.anvil("chaos");
    assertEquals(2, neither.code());
    assertTrue(neither.err().contains("give either --scenario FILE or --suite DIR"), neither.err());
    Outcome missing = MainTest.anvil("chaos", "--scenario", dir.resolve("nope.conf").toString());
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("nope.conf: no such scenario file"), missing.err());
    Outcome nodes =
        MainTest.anvil("chaos", "--scenario", "../examples/chaos/kill-worker.conf", "--nodes", "0");
    assertEquals(2, nodes.code());
    assertTrue(
        nodes.err().contains("--nodes = 0: must be a whole number from 1 to 16"), nodes.err());
  }

  @Test
  void aSuiteWithAnUnknownVerdictExits1AndSummarizes() throws Exception {
    Path suite = dir.resolve("suite");
    Files.createDirectories(suite.resolve("jobs"));
    Files.writeString(
        suite.resolve("jobs/small.conf"),
        TestJobs.smallJobText("small", 1500, "job.checkpoint.every-rounds = 100"));
    Files.writeString(
        suite.resolve("a-kill.conf"),
        """
        scenario {
          name = a-kill, nodes = 3, job = "jobs/small.conf", timeout = 3m
          faults = [ { type = kill-node, target = worker, at-round = 200, restart-after = 2s } ]
        }
        """);
    Files.writeString(
        suite.resolve("b-never.conf"),
        """
        scenario {
          name = b-never, nodes = 3, job = "jobs/small.conf", timeout = 3m
          faults = [ { type = straggler, at-round = 99999, duration = 1s } ]
        }
        """);
    Path report = dir.resolve("report");
    Outcome o =
        MainTest.anvil(
            "chaos", "--suite", suite.toString(), "--report", report.toString(), "--seed", "5");
    assertEquals(1, o.code(), o.out() + o.err());
    assertTrue(o.out().contains("| a-kill | 5 | TRUE | 1500/1500 | 0 | 0 | 1/1 |"), o.out());
    assertTrue(o.out().contains("| b-never | 5 | UNKNOWN | 1500/1500 | 0 | 0 | 0/0 |"), o.out());
    assertTrue(o.out().contains("NOT every verdict true"), o.out());
    assertTrue(Files.readString(report.resolve("b-never/report.md")).contains("never fired"));
    assertTrue(
        Files.exists(report.resolve("a-kill/timeline.png")),
        () -> MainTest.read(report.resolve("a-kill/report.md")));
    assertTrue(Files.size(report.resolve("a-kill/timeline.png")) > 10_000);
    assertTrue(Files.exists(report.resolve("summary.md")));
  }
}
