package dev.anvil.chaos;

import dev.anvil.chaos.check.Checker;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.Fault;
import dev.anvil.chaos.fault.Faults;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.report.Report;
import dev.anvil.chaos.scenario.FaultPlan;
import dev.anvil.chaos.scenario.Scenario;
import dev.anvil.chaos.scenario.Schedule;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.FollowedJob;
import dev.anvil.runtime.LocalCluster;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * Runs one scenario: trains the job on the reference trainer for the fault-free hash, starts a
 * chaos cluster, submits the job, injects and heals the scheduled faults, waits for the job's
 * end, reads the journal back, asks the checker and writes the report.
 */
public final class ChaosRun {
  private final Scenario scenario;
  private final Path reportDir;
  private final PrintStream out;

  /** A finished run: its verdict and where the report went. */
  public record Result(Scenario scenario, Verdict verdict, Path reportDir, double seconds) {}

  public ChaosRun(Scenario scenario, Path reportDir, PrintStream out) {
    this.scenario = scenario;
    this.reportDir = reportDir;
    this.out = out;
  }

  /** A heal due at {@code atNanos}. */
  private record PendingHeal(Fault fault, long atNanos) {}

  public Result run() throws InterruptedException {
    long start = System.nanoTime();
    JobSpec spec = JobSpecParser.parse(scenario.job());
    say("scenario %s (seed %d): %d nodes, job %s", scenario.name(), scenario.seed(),
        scenario.nodes(), spec.name());
    Reference reference = Reference.of(spec);
    say("fault-free reference: %d rounds in %.1f s, paramsSha256 %s", reference.rounds(),
        reference.seconds(), reference.paramsSha256());
    Duration restartTimeout = Duration.ofSeconds(90);
    Verdict verdict;
    History history;
    Path clusterDir = reportDir.resolve("cluster");
    ChaosCluster.clearDirectory(clusterDir);  // fresh: an old run's job must not answer
    try (ChaosCluster cluster = ChaosCluster.start(LocalCluster.Settings.of(scenario.nodes(),
        scenario.slotsPerNode(), clusterDir).withHeap("1g").allowingDataOf(spec))) {
      history = cluster.history();
      long deadline = System.nanoTime() + scenario.timeout().toNanos();
      FollowedJob job = cluster.submit(scenario.name(), spec, scenario.workers());
      job.awaitRound(1, Duration.ofSeconds(120));
      long t0 = System.nanoTime();
      Deque<Schedule.Injection> due = new ArrayDeque<>(Schedule.of(scenario));
      List<PendingHeal> heals = new ArrayList<>();
      while (!job.done() && System.nanoTime() < deadline && (!due.isEmpty()
          || !heals.isEmpty())) {
        long now = System.nanoTime();
        for (PendingHeal h : List.copyOf(heals)) {
          if (now >= h.atNanos()) {
            cluster.heal(h.fault(), job.round());
            heals.remove(h);
          }
        }
        Schedule.Injection next = firstDue(due, job.round(), now - t0);
        if (next != null) {
          due.remove(next);
          FaultPlan plan = scenario.faults().get(next.plan());
          if (Faults.takesNodes(plan.type())) {
            heals.removeIf(h -> {
              boolean pending = Faults.takesNodes(h.fault().type());
              if (pending) {
                cluster.heal(h.fault(), job.round());  // never take a second node early
              }
              return pending;
            });
            cluster.awaitWhole(restartTimeout);
          }
          Fault fault;
          try {
            fault = Faults.create(plan, cluster, job, next.seed(scenario.seed()),
                restartTimeout);
          } catch (RuntimeException e) {
            history.add(new History.Op(System.currentTimeMillis(), History.Type.FAIL,
                plan.type(), plan.target(), job.round(), "cannot target: " + e.getMessage()));
            continue;
          }
          say("round %d: %s on %s", job.round(), fault.type(), fault.target());
          if (cluster.inject(fault, job.round())) {
            heals.add(new PendingHeal(fault, System.nanoTime() + plan.duration().toNanos()));
          }
          continue;
        }
        job.awaitRound(r -> firstDue(due, r, System.nanoTime() - t0) != null,
            Duration.ofMillis(100));
      }
      for (PendingHeal h : heals) {
        cluster.heal(h.fault(), job.round());
      }
      if (!job.done()) {
        // Every node back (a downed node that exited is started again): the job must then
        // return to full strength (the checker holds it to that).
        try {
          cluster.awaitWhole(restartTimeout);
          cluster.note(Checker.WHOLE, job.round(), cluster.size() + " nodes up by incarnation");
        } catch (RuntimeException e) {
          history.add(new History.Op(System.currentTimeMillis(), History.Type.FAIL, "restart",
              "every node", job.round(), "the cluster is not whole again: " + e.getMessage()));
        }
      }
      for (Schedule.Injection never : due) {
        FaultPlan plan = scenario.faults().get(never.plan());
        history.add(new History.Op(System.currentTimeMillis(), History.Type.FAIL, plan.type(),
            plan.target(), job.round(), "never fired: the job ended (or the run timed out)"
            + " first"));
      }
      Checker.Outcome outcome = ChaosCluster.outcome(job, Duration.ofNanos(Math.max(
          deadline - System.nanoTime(), Duration.ofSeconds(1).toNanos())));
      verdict = cluster.verdict(job, reference, outcome);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Report.write(reportDir, scenario, verdict, history, seconds);
    say("verdict %s: %d of %d rounds committed, lost %d, duplicated %d, out of order %d,"
        + " single-writer violations %d, hash %s; report in %s", verdict.valid(),
        verdict.roundsCommitted(), verdict.roundsExpected(), verdict.lost(),
        verdict.duplicated(), verdict.outOfOrder(), verdict.singleWriterViolations(),
        verdict.hashEqual() ? "equal to the reference" : "NOT equal to the reference",
        reportDir);
    verdict.problems().forEach(p -> say("  %s", p));
    return new Result(scenario, verdict, reportDir, seconds);
  }

  /** The first injection due now (by time, or by the newest committed round). */
  private static Schedule.Injection firstDue(Deque<Schedule.Injection> due, long round,
      long elapsedNanos) {
    for (Schedule.Injection i : due) {
      if (i.byRound() ? round >= i.round() : elapsedNanos >= i.atMillis() * 1_000_000L) {
        return i;
      }
    }
    return null;
  }

  private void say(String format, Object... args) {
    if (out != null) {
      out.println("[chaos] " + String.format(Locale.ROOT, format, args));
    }
  }
}
