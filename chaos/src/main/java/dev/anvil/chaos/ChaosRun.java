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
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalClusterSettings;
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
 * chaos cluster, submits the job, injects and heals the scheduled faults, waits for the job's end,
 * reads the journal back, asks the checker and writes the report. Every wait has a deadline: the
 * job's first round {@link #FIRST_ROUND_TIMEOUT}; each restart, each wait for a whole cluster and
 * for a node back in the job {@link #RESTART_TIMEOUT}; the schedule and the job's end the
 * scenario's timeout.
 */
public final class ChaosRun {
  /** How long a restarted node, a cluster not whole, or a node's workers may take to be back. */
  private static final Duration RESTART_TIMEOUT = Duration.ofSeconds(90);

  /** How long the job may take to commit its first round. */
  private static final Duration FIRST_ROUND_TIMEOUT = Duration.ofSeconds(120);

  private final Scenario scenario;
  private final Path reportDir;
  private final PrintStream out;
  private final Hooks hooks;

  /**
   * A finished run: its verdict, where the report went, and the job's result.json as its
   * coordinator wrote it ({@code resultJson}; null when the job did not succeed).
   */
  public record Result(
      Scenario scenario, Verdict verdict, Path reportDir, double seconds, String resultJson) {}

  /**
   * What a caller sees of a run as it goes, and how the reference is trained. Every method has a
   * default, which is what {@code anvil chaos} uses. {@link #update} is called on the client's
   * thread as the job reports, {@link #recorded} on the thread that recorded the operation, the
   * others on the run's thread.
   */
  public interface Hooks {
    /** The defaults: the reference trained silently on one thread, nothing else shown. */
    Hooks NONE = new Hooks() {};

    /** Trains the fault-free reference that the run is judged against. */
    default Reference reference(JobSpec spec) {
      return Reference.of(spec);
    }

    /** The cluster is about to start, with its node logs and database under {@code dir}. */
    default void starting(Path dir) {}

    /** The cluster is up; the job is submitted next. */
    default void started(ChaosCluster cluster) {}

    /** An update from the job: accepted, progress, a recovery, a node back in the job. */
    default void update(JobUpdate update) {}

    /**
     * {@code fault}, planned by {@code plan}, is injected next, at round {@code round} (a fault
     * that takes nodes only once the cluster is whole).
     */
    default void injecting(FaultPlan plan, Fault fault, long round) {}

    /** A fault operation, as the run's history records it (injected, healed, failed, noted). */
    default void recorded(History.Op op) {}
  }

  /** A run that prints its progress to {@code out} (null: silent). */
  public ChaosRun(Scenario scenario, Path reportDir, PrintStream out) {
    this(scenario, reportDir, out, Hooks.NONE);
  }

  /** A run that prints its progress to {@code out} (null: silent) and calls {@code hooks}. */
  public ChaosRun(Scenario scenario, Path reportDir, PrintStream out, Hooks hooks) {
    this.scenario = scenario;
    this.reportDir = reportDir;
    this.out = out;
    this.hooks = hooks;
  }

  /** A heal of {@code fault} (planned by {@code plan}, injected then) due at {@code atNanos}. */
  private record PendingHeal(Fault fault, FaultPlan plan, long injectedAtMillis, long atNanos) {}

  public Result run() throws InterruptedException {
    long start = System.nanoTime();
    JobSpec spec = JobSpecParser.parse(scenario.job());
    say(
        "scenario %s (seed %d): %d nodes, job %s",
        scenario.name(), scenario.seed(), scenario.nodes(), spec.name());
    Reference reference = hooks.reference(spec);
    say(
        "fault-free reference: %d rounds in %.1f s, paramsSha256 %s",
        reference.rounds(), reference.seconds(), reference.paramsSha256());
    Verdict verdict;
    History history;
    String resultJson;
    Path clusterDir = reportDir.resolve("cluster");
    ChaosCluster.clearDirectory(clusterDir); // fresh: an old run's job must not answer
    hooks.starting(clusterDir);
    try (ChaosCluster cluster =
        ChaosCluster.start(
            LocalClusterSettings.of(scenario.nodes(), scenario.slotsPerNode(), clusterDir)
                .withHeap("1g")
                .allowingDataOf(spec))) {
      history = cluster.history();
      history.watch(hooks::recorded);
      hooks.started(cluster);
      long deadline = System.nanoTime() + scenario.timeout().toNanos();
      FollowedJob job = cluster.submit(scenario.name(), spec, scenario.workers(), hooks::update);
      job.awaitRound(1, FIRST_ROUND_TIMEOUT);
      Deque<Schedule.Injection> never =
          runSchedule(cluster, job, Schedule.of(scenario, reference.rounds()), deadline);
      if (!job.done()) {
        awaitWhole(cluster, job);
      }
      for (Schedule.Injection i : never) {
        FaultPlan plan = scenario.faults().get(i.plan());
        history.add(
            new History.Op(
                System.currentTimeMillis(),
                History.Type.FAIL,
                plan.type(),
                plan.target(),
                job.round(),
                "never fired: the job ended (or the run timed out)" + " first"));
      }
      Checker.Outcome outcome =
          ChaosCluster.outcome(
              job,
              Duration.ofNanos(
                  Math.max(deadline - System.nanoTime(), Duration.ofSeconds(1).toNanos())));
      verdict = cluster.verdict(job, reference, outcome);
      resultJson =
          outcome.paramsSha256() == null
              ? null
              : job.awaitEnding(Duration.ofSeconds(5)).resultJson();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Report.write(reportDir, scenario, verdict, history, seconds);
    say(
        "verdict %s: %d of %d rounds committed, lost %d, duplicated %d, out of order %d,"
            + " single-writer violations %d, hash %s; report in %s",
        verdict.valid(),
        verdict.roundsCommitted(),
        verdict.roundsExpected(),
        verdict.lost(),
        verdict.duplicated(),
        verdict.outOfOrder(),
        verdict.singleWriterViolations(),
        verdict.hashEqual() ? "equal to the reference" : "NOT equal to the reference",
        reportDir);
    verdict.problems().forEach(p -> say("  %s", p));
    return new Result(scenario, verdict, reportDir, seconds, resultJson);
  }

  /**
   * Injects and heals the scheduled faults until none is left, the job ends or the deadline passes;
   * heals what is still active then. Returns the injections that never fired.
   */
  private Deque<Schedule.Injection> runSchedule(
      ChaosCluster cluster, FollowedJob job, List<Schedule.Injection> schedule, long deadline)
      throws InterruptedException {
    long t0 = System.nanoTime();
    Deque<Schedule.Injection> due = new ArrayDeque<>(schedule);
    List<PendingHeal> heals = new ArrayList<>();
    while (!job.done() && System.nanoTime() < deadline && (!due.isEmpty() || !heals.isEmpty())) {
      long now = System.nanoTime();
      List<PendingHeal> healNow = heals.stream().filter(h -> now >= h.atNanos()).toList();
      for (PendingHeal h : healNow) {
        heal(cluster, job, h);
        heals.remove(h);
      }
      if (!healNow.isEmpty()) {
        continue; // a heal can take long: look again whether the job ended first
      }
      Schedule.Injection next = firstDue(due, job.round(), now - t0);
      if (next != null) {
        if (inject(cluster, job, next, heals)) {
          due.remove(next);
        }
        continue;
      }
      job.awaitRound(r -> firstDue(due, r, System.nanoTime() - t0) != null, Duration.ofMillis(100));
    }
    for (PendingHeal h : heals) {
      heal(cluster, job, h);
    }
    return due;
  }

  /**
   * Heals {@code h}; when its plan says await-rejoin, then waits until the job has each of its
   * nodes back, recording a failed operation for a node not back in time.
   */
  private static void heal(ChaosCluster cluster, FollowedJob job, PendingHeal h)
      throws InterruptedException {
    if (!cluster.heal(h.fault(), job.round()) || !h.plan().awaitRejoin()) {
      return;
    }
    for (int n : h.fault().nodes()) {
      String node = cluster.address(n);
      if (!job.awaitRejoin(node, h.injectedAtMillis(), RESTART_TIMEOUT) && !job.done()) {
        cluster
            .history()
            .add(
                new History.Op(
                    System.currentTimeMillis(),
                    History.Type.FAIL,
                    h.fault().type(),
                    "node " + (n + 1) + " (" + node + ")",
                    job.round(),
                    "started"
                        + " again, but its workers are not back in the job after "
                        + RESTART_TIMEOUT.toSeconds()
                        + " s"));
      }
    }
  }

  /**
   * Injects {@code next}, first waiting for a whole cluster when it takes nodes. Returns false,
   * leaving it due, when the job ended before it could strike.
   */
  private boolean inject(
      ChaosCluster cluster, FollowedJob job, Schedule.Injection next, List<PendingHeal> heals)
      throws InterruptedException {
    FaultPlan plan = scenario.faults().get(next.plan());
    if (Faults.takesNodes(plan.type())) {
      for (PendingHeal h : List.copyOf(heals)) {
        if (Faults.takesNodes(h.fault().type())) {
          heal(cluster, job, h); // never take a second node early
          heals.remove(h);
        }
      }
      cluster.awaitWhole(RESTART_TIMEOUT);
      if (job.done()) {
        return false;
      }
    }
    Fault fault;
    try {
      fault = Faults.create(plan, cluster, job, next.seed(scenario.seed()), RESTART_TIMEOUT);
    } catch (RuntimeException e) {
      cluster
          .history()
          .add(
              new History.Op(
                  System.currentTimeMillis(),
                  History.Type.FAIL,
                  plan.type(),
                  plan.target(),
                  job.round(),
                  "cannot target: " + e.getMessage()));
      return true;
    }
    say("round %d: %s on %s", job.round(), fault.type(), fault.target());
    hooks.injecting(plan, fault, job.round());
    long injectedAt = System.currentTimeMillis();
    if (cluster.inject(fault, job.round())) {
      heals.add(
          new PendingHeal(fault, plan, injectedAt, System.nanoTime() + plan.duration().toNanos()));
    }
    return true;
  }

  /**
   * Every node back (a downed node that exited is started again): the job must then return to full
   * strength (the checker holds it to that).
   */
  private static void awaitWhole(ChaosCluster cluster, FollowedJob job) {
    try {
      cluster.awaitWhole(RESTART_TIMEOUT);
      cluster.note(Checker.WHOLE, job.round(), cluster.size() + " nodes up by incarnation");
    } catch (RuntimeException e) {
      cluster
          .history()
          .add(
              new History.Op(
                  System.currentTimeMillis(),
                  History.Type.FAIL,
                  "restart",
                  "every node",
                  job.round(),
                  "the cluster is not whole again: " + e.getMessage()));
    }
  }

  /** The first injection due now (by time, or by the newest committed round). */
  private static Schedule.Injection firstDue(
      Deque<Schedule.Injection> due, long round, long elapsedNanos) {
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
