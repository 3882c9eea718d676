package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.chaos.ChaosCluster;
import dev.anvil.chaos.ChaosRun;
import dev.anvil.chaos.Reference;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.Fault;
import dev.anvil.chaos.fault.Faults;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.scenario.FaultPlan;
import dev.anvil.chaos.scenario.Scenario;
import dev.anvil.chaos.scenario.Trigger;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Recovered;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.train.TrainingResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What {@code anvil demo} shows of its chaos run: the reference's progress, the cluster's nodes,
 * each kill, restart and return to the job, the job's progress; then the recovery figures, the
 * checker's verdict and whether the cluster ended with the reference's parameters and every worker.
 * The run's thread and the client's both print through it, so its printing methods take turns.
 */
final class DemoConsole implements ChaosRun.Hooks {
  private final Scenario scenario;
  private final String origin;
  private final Path out;
  private final ProgressBar bar = ProgressBar.forConsole(false);

  /** Nodes killed so far (on the run's thread only). */
  private int killed;

  /** For {@code scenario} training the job of {@code origin}, results in {@code out}. */
  DemoConsole(Scenario scenario, String origin, Path out) {
    this.scenario = scenario;
    this.origin = origin;
    this.out = out;
  }

  /** Trains the reference on every core, with progress, and keeps its result.json. */
  @Override
  public Reference reference(JobSpec spec) {
    int cores = Runtime.getRuntime().availableProcessors();
    System.out.printf("%n== 1. the reference: one process, %d threads ==%n", cores);
    TrainingResult r = ReferenceRun.run(spec, origin, cores, bar);
    ReferenceRun.write(r, out.resolve("result-reference.json"));
    System.out.println(ReferenceRun.summary(r));
    return new Reference(r.paramsSha256(), r.rounds(), r.wallSeconds());
  }

  @Override
  public void starting(Path dir) {
    List<FaultPlan> faults = scenario.plannedFaults();
    int fewest = scenario.faults().stream().mapToInt(FaultPlan::minNodes).min().orElse(1);
    System.out.printf(
        "%n== 2. a local cluster: %d node JVMs, %d workers, journal in an embedded"
            + " PostgreSQL%s ==%n(the chaos scenario %s)%n",
        scenario.nodes(),
        scenario.workers(),
        faults.isEmpty()
            ? " (faults need " + fewest + " nodes or more)"
            : "; "
                + faults.stream().map(DemoConsole::planned).collect(Collectors.joining(", "))
                + ", each started again",
        scenario.file());
  }

  @Override
  public synchronized void started(ChaosCluster cluster) {
    bar.message(
        "nodes up at "
            + String.join(", ", cluster.local().addresses())
            + "; logs in "
            + cluster.local().dataDirectory());
    bar.message(
        "members talk mutual TLS with a CA made for this run (certificate in "
            + cluster.local().tlsFolder()
            + ")");
    bar.message(
        "live dashboard on every node (some of them will be killed): "
            + String.join(", ", cluster.local().httpUrls().stream().map(u -> u + "/").toList()));
  }

  @Override
  public synchronized void update(JobUpdate update) {
    if (update instanceof Recovered r && r.recovery().kind().equals("node-rejoined")) {
      bar.message(
          r.recovery().detail().split(" ", 2)[0]
              + " rejoined the job: its workers"
              + " compute again, "
              + r.recovery().recoveryMillis()
              + " ms after its restart");
    } else {
      ClusterRun.show(update, bar);
    }
  }

  @Override
  public synchronized void injecting(FaultPlan plan, Fault fault, long round) {
    String whole =
        Faults.takesNodes(plan.type())
            ? "the cluster is whole (" + scenario.nodes() + " nodes up by incarnation); "
            : "";
    if (plan.type().equals("kill-node")) {
      killed += plan.count();
      bar.message(
          "round "
              + round
              + ": "
              + whole
              + "killing "
              + fault.target()
              + " ("
              + victims(plan)
              + ") with SIGKILL");
    } else {
      bar.message("round " + round + ": " + whole + plan.type() + " on " + fault.target());
    }
  }

  @Override
  public synchronized void recorded(History.Op op) {
    if (op.type() == History.Type.HEAL) {
      bar.message(
          op.target()
              + ": "
              + op.detail()
              + (op.fault().equals("kill-node")
                  ? "; waiting for its workers to rejoin the job"
                  : ""));
    } else if (op.type() == History.Type.FAIL) {
      bar.message(op.fault() + " on " + op.target() + " FAILED: " + op.detail());
    }
  }

  /**
   * Prints how the run ended and keeps the cluster's result.json; returns whether the demo
   * succeeded: the reference's hash, the checker's TRUE and the job ending with every worker.
   *
   * @throws ClusterRun.JobFailure when the cluster's job did not succeed
   */
  boolean conclude(ChaosRun.Result run) {
    Verdict v = run.verdict();
    if (run.resultJson() == null) {
      throw new ClusterRun.JobFailure(
          "the cluster's job did not succeed: "
              + v.failure()
              + "; node logs in "
              + out.resolve("cluster")
              + ", report in "
              + run.reportDir());
    }
    JsonNode result = ClusterRun.parse(run.resultJson());
    bar.history(result);
    ClusterRun.write(run.resultJson(), out.resolve("result-cluster.json"));
    System.out.println(ClusterRun.summary(result));
    printRecoveries(v, result);
    System.out.printf(
        "checker: %s (rounds %d of %d, lost %d, duplicated %d, out of order %d,"
            + " single-writer violations %d); report in %s%n",
        v.valid(),
        v.roundsCommitted(),
        v.roundsExpected(),
        v.lost(),
        v.duplicated(),
        v.outOfOrder(),
        v.singleWriterViolations(),
        run.reportDir().resolve("report.md"));
    String clusterHash = result.get("paramsSha256").asText();
    boolean same = v.referenceSha256().equals(clusterHash);
    int workersAtEnd = result.path("workers").asInt();
    boolean whole = workersAtEnd == scenario.workers();
    if (!whole) {
      System.out.printf(
          "NOT WHOLE: the job ended with %d of its %d workers%n", workersAtEnd, scenario.workers());
    }
    boolean ok = same && whole && v.valid() == Verdict.Validity.TRUE;
    String faultStory =
        killed == 0
            ? ""
            : " ("
                + killed
                + " nodes killed and restarted, "
                + (whole ? "all" : "NOT all")
                + " back in the job)";
    System.out.printf(
        "%n%s: the reference and the %d-node cluster%s ended with %s parameters%n"
            + "  reference %s%n  cluster   %s%nresults in %s%n",
        ok ? "OK" : same ? "FAILED" : "MISMATCH",
        scenario.nodes(),
        faultStory,
        same ? "bitwise identical" : "DIFFERENT",
        v.referenceSha256(),
        clusterHash,
        out);
    if (!ok && same && v.valid() != Verdict.Validity.TRUE) {
      System.out.println("the checker did not say TRUE: " + v.problems());
    }
    return ok;
  }

  /** Each fault's cost as the checker measured it, and each node's return as the job did. */
  private static void printRecoveries(Verdict v, JsonNode result) {
    for (Verdict.RecoveryTime r : v.recoveries()) {
      System.out.println(
          r.millis() < 0
              ? r.fault() + " of " + r.target() + ": no round was" + " committed after it"
              : String.format(
                  Locale.ROOT,
                  "%s of %s: the next round was" + " committed %.1f s later (longest stall %.1f s)",
                  r.fault(),
                  r.target(),
                  r.millis() / 1000.0,
                  Math.max(0, r.stallMillis()) / 1000.0));
    }
    for (JsonNode r : result.path("recoveries")) {
      if (r.path("kind").asText().equals("node-rejoined")) {
        System.out.printf(
            Locale.ROOT,
            "rejoin: %s; %.1f s from its restart to the first round" + " that used its workers%n",
            r.path("detail").asText(),
            r.path("recoveryMillis").asLong() / 1000.0);
      }
    }
  }

  /** "a worker's node killed (SIGKILL) at 30% of the rounds", from a planned fault. */
  private static String planned(FaultPlan p) {
    String when =
        p.trigger() instanceof Trigger.AtProgress a
            ? String.format(Locale.ROOT, "at %.0f%% of the rounds", a.fraction() * 100)
            : p.trigger().toString();
    return victims(p)
        + (p.type().equals("kill-node") ? " killed (SIGKILL) " : " hit by " + p.type() + " ")
        + when;
  }

  /** The nodes a planned fault takes, in words: "the coordinator's node and 1 more". */
  private static String victims(FaultPlan p) {
    String first =
        switch (p.target()) {
          case "worker" -> "a worker's node";
          case "coordinator" -> "the coordinator's node";
          default -> p.target();
        };
    return p.count() == 1 ? first : first + " and " + (p.count() - 1) + " more";
  }
}
