package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.Evaluated;
import dev.anvil.coordinator.JobProtocol.Failed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.spec.CheckpointSpec;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecWriter;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.Evaluator;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.Recovery;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One incarnation's run of a job, from loading to its end: the parts {@link Starting} and {@link
 * Training} share (spec, incarnation, workers, rounds, commits, checkpoints, recoveries, counters)
 * and the actions both take (evaluate, record recoveries, report placement, end).
 */
final class JobRun {
  final CoordinatorContext c;
  final JobSpec spec;

  /** How many workers the job asked for. */
  final int wanted;

  final Incarnation inc;
  final WorkerPool pool;
  final Recoveries recoveries;
  final CheckpointPipeline checkpoints;
  final JobStats stats = new JobStats();
  final Deadlines deadlines;

  /** When each worker (by name) was last heard from: its newest result. */
  private final Map<String, Long> lastHeard = new HashMap<>();

  /** The workers by node as last logged (placementChanged). */
  private String loggedPlacement = "";

  /** When the newest round was committed (the time its journal event holds). */
  long lastCommittedMillis;

  /** Null until training starts. */
  Durability durability;

  /** Null until the job is loaded, and again once it ended. */
  RoundLoop loop;

  CommitPipeline commits;
  String canary;
  boolean pauseRequested;

  /** Why the job is being cancelled; null unless it is. */
  String cancelReason;

  JobRun(
      CoordinatorContext c,
      JobSpec spec,
      JournalState recorded,
      boolean takeOver,
      boolean resuming) {
    this.c = c;
    this.spec = spec;
    this.wanted = recorded.workers();
    this.inc = new Incarnation(recorded, takeOver, resuming, System.currentTimeMillis());
    this.pool = new WorkerPool(recorded.recoveries(), this::memberOf);
    this.recoveries = new Recoveries(recorded.recoveries());
    this.checkpoints = new CheckpointPipeline(recorded.checkpoints(), c.settings.keepCheckpoints());
    this.deadlines = new Deadlines(c.settings.minimumDeadline(), c.settings.deadlineMultiplier());
    this.lastCommittedMillis = recorded.lastRoundMillis();
  }

  /**
   * The incarnation of the node {@code w} runs on, as this node's membership has it: the member at
   * its address that is not on its way out; null when there is none.
   */
  private UniqueAddress memberOf(ActorRef<WorkerCommand> w) {
    org.apache.pekko.actor.Address a = w.path().address();
    Cluster cluster = Cluster.get(c.actor.getSystem());
    if (a.hasLocalScope()) {
      return cluster.selfMember().uniqueAddress();
    }
    for (Member m : cluster.state().getMembers()) {
      MemberStatus s = m.status();
      if (m.address().equals(a)
          && s != MemberStatus.down()
          && s != MemberStatus.removed()
          && s != MemberStatus.exiting()
          && s != MemberStatus.leaving()) {
        return m.uniqueAddress();
      }
    }
    return null;
  }

  PreparedJob job() {
    return loop.job();
  }

  boolean incremental() {
    return spec.checkpoint().mode() == CheckpointSpec.Mode.INCREMENTAL;
  }

  void heardFrom(String worker) {
    lastHeard.put(worker, System.currentTimeMillis());
  }

  /** When the newest of {@code workers} was last heard from; 0 if none ever was. */
  long lastHeardFrom(List<String> workers) {
    return workers.stream().mapToLong(w -> lastHeard.getOrDefault(w, 0L)).max().orElse(0);
  }

  /** Asks {@code workers} to prepare the job for this incarnation. */
  void prepare(List<ActorRef<WorkerCommand>> workers) {
    String text = JobSpecWriter.toHocon(spec);
    for (ActorRef<WorkerCommand> w : workers) {
      w.tell(new PrepareJob(c.jobId, inc.coordinatorEpoch(), text, c.replies));
    }
  }

  /** Why prepared worker {@code p} cannot take part (data, canary, kernel), if it cannot. */
  Optional<String> preparationProblem(Prepared p) {
    return PreparationCheck.problem(
        p,
        p.self().path().address().toString(),
        job().dataFingerprint(),
        canary,
        job().kernel().name(),
        c.actor.getSystem().address().toString());
  }

  /** Evaluates the parameters after round {@code done} off the actor's thread. */
  void evaluate(long done) {
    float[] params = loop.state().params().clone();
    double trainLoss = loop.takeTrainingEpochLoss();
    checkpoints.evaluationStarted(done);
    PreparedJob j = loop.job();
    c.pipe(
        () -> {
          var test = new Evaluator(j.model(), j.data().test()).evaluate(params);
          return new EpochReport(
              (double) done / j.roundsPerEpoch(),
              done,
              trainLoss,
              test.meanLoss(),
              j.model().classifier() ? test.accuracy() : null);
        },
        report -> new Evaluated(report, null),
        error -> new Evaluated(null, error));
  }

  /**
   * Completes the recoveries waiting for a round up to {@code last} ({@code committedMillis}: the
   * journal's times of the rounds, by round) and records, logs and reports each.
   */
  void completeRecoveries(long last, Map<Long, Long> committedMillis) {
    for (Recovery done : recoveries.complete(last, committedMillis, System.currentTimeMillis())) {
      c.journal.send(new JobJournal.RecordRecovery(done, c.acks), JobJournal.Recorded.RECOVERY);
      c.log()
          .info(
              "job {}: recovered from {} ({}): {}",
              c.jobId,
              done.kind(),
              done.detail(),
              done.costs());
      c.metrics.recovered(done.kind(), done.recoveryMillis(), done.stallMillis());
      c.watchers.tell(new JobProtocol.Recovered(c.jobId, done));
    }
  }

  /** The journal recorded a recovery; the rest are sent again if it did not in time. */
  void recoveryAcknowledged() {
    if (!recoveries.acknowledged()) {
      c.journal.acknowledged(JobJournal.Recorded.RECOVERY);
    }
  }

  void resendRecoveries() {
    for (Recovery r : recoveries.unacknowledged()) {
      c.journal.send(new JobJournal.RecordRecovery(r, c.acks), JobJournal.Recorded.RECOVERY);
    }
  }

  /**
   * The job's workers changed ({@code why}; {@code workers} take part now): publishes their number
   * and logs where they are, when that differs from the last time.
   */
  void placementChanged(String why, List<ActorRef<WorkerCommand>> workers) {
    Map<UniqueAddress, Integer> byNode = pool.byNode(workers);
    StringBuilder text = new StringBuilder();
    byNode.forEach(
        (node, n) ->
            text.append(text.length() == 0 ? "" : ", ")
                .append(WorkerPool.hostPort(node))
                .append(" (uid ")
                .append(node.longUid())
                .append(") x")
                .append(n));
    String now = text.toString();
    c.metrics.jobWorkers(c.jobId, byNode.values().stream().mapToInt(Integer::intValue).sum());
    if (!now.equals(loggedPlacement)) {
      loggedPlacement = now;
      c.log()
          .info(
              "job {}: {}; coordinator on {}, workers on {}",
              c.jobId,
              why,
              WorkerPool.hostPort(c.selfNode()),
              now.isEmpty() ? "no node" : now);
    }
  }

  /**
   * The replay reached the newest round an earlier incarnation committed, with {@code loss}: the
   * failure when it is not the journal's bit for bit, else null (and the replay ends).
   */
  String replayed(double loss) {
    String failure = inc.replayVerdict(loss);
    if (failure != null) {
      return failure;
    }
    c.log()
        .info(
            "job {}: epoch {} restored rounds {}..{} ({} from the gradient log, the rest"
                + " recomputed) in {} ms; the loss of round {} matches the journal bit for bit",
            c.jobId,
            inc.coordinatorEpoch(),
            inc.restoredFrom() + 1,
            inc.replayUntil(),
            inc.replayedFromLog(),
            System.currentTimeMillis() - inc.resumedMillis(),
            inc.replayUntil());
    finishReplay();
    return null;
  }

  /**
   * The parameters are back at the newest committed round (restored, then recomputed): from here
   * rounds are new. A take-over that was not a resume completes a recovery with the next durable
   * round.
   */
  void finishReplay() {
    if (!inc.finishReplay()) {
      return;
    }
    commits.replayedThrough(inc.replayUntil());
    if (!inc.recovering()) {
      return;
    }
    inc.restartRecovery(recoveries, c.hostPort(), System.currentTimeMillis());
    if (inc.replayUntil() == job().totalRounds()) {
      completeRecoveries(inc.replayUntil() + 1, Map.of());
    }
  }

  /** A cancel was asked for: recorded, then the job ends with {@code reason}. */
  void cancel(String reason) {
    cancelReason = "cancelled" + (reason.isBlank() ? "" : ": " + reason);
    c.journal.send(
        new JobJournal.RecordCancelled(cancelReason, c.acks), JobJournal.Recorded.CANCELLED);
  }

  Behavior<Command> fail(String reason) {
    return end(reason, true);
  }

  /**
   * The job ends unsuccessfully; {@code record}: journal why (a cancel is journaled already; the
   * journal keeps the first outcome, so sending it again is safe).
   */
  Behavior<Command> end(String reason, boolean record) {
    c.log().warn("job {} {}: {}", c.jobId, record ? "failed" : "ended", reason);
    c.passivateWhenIdle();
    if (record) {
      c.journal.send(new JobJournal.RecordFailed(reason, c.acks), JobJournal.Recorded.FAILED);
    }
    Failed failed = new Failed(c.jobId, reason);
    c.watchers.tell(failed);
    return ended(failed);
  }

  /**
   * The job's workers are released and its training state dropped (finished coordinators waiting
   * for passivation must not hold a data set each); the {@link Ended} behavior.
   */
  Behavior<Command> ended(JobProtocol.JobUpdate outcome) {
    if (durability != null) {
      durability.ended();
    }
    c.release(pool.recruits());
    c.metrics.jobEnded(c.jobId);
    if (commits != null) {
      commits.clear();
    }
    loop = null;
    return new Ended(
        c,
        outcome,
        inc.recorded(),
        inc.coordinatorEpoch(),
        checkpoints.newestFirst(),
        String.valueOf(spec.checkpoint().everyRounds()),
        this);
  }
}
