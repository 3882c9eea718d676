package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.Evaluated;
import dev.anvil.coordinator.JobCoordinator.FromWorker;
import dev.anvil.coordinator.JobCoordinator.RoundDeadline;
import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.protocol.TrainingProtocol.ParamsMissing;
import dev.anvil.core.protocol.TrainingProtocol.PlaneDone;
import dev.anvil.core.protocol.TrainingProtocol.PlaneFailed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareFailed;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.train.DivergedException;
import dev.anvil.core.train.GradientSum;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A job's rounds in this incarnation: each round is dispatched to the live workers, gathered
 * ({@link RoundLoop}), applied and handed to the {@link Durability} side (journal, checkpoints);
 * lost, late or bad workers' work is re-dispatched ({@link WorkerPool}); joiners are admitted. It
 * ends by pausing at a round boundary (then {@link Ended}, paused) or finishing once every round is
 * durable and evaluated.
 */
final class Training extends CoordinatorBehavior {
  /**
   * Where the rounds are: going on, stopping for a pause, all computed, or over (the job ended;
   * checkpoints written by then are still journaled).
   */
  enum Stage {
    TRAINING,
    PAUSING,
    FINISHING,
    ENDED
  }

  private final JobRun run;
  private final Durability durability;
  private final WorkerChanges changes;
  private final PlaneViews plane;

  /** A plane sum of the round after the current one, in before that round started here. */
  private JobCoordinator.PlaneSummed aheadSum;

  /** The deadline attempt a new view's first round starts at (each attempt doubles it). */
  private static final int NEW_VIEW_ATTEMPT = 4;

  private Stage stage = Stage.TRAINING;

  private Training(CoordinatorContext c, JobRun run) {
    super(c);
    this.run = run;
    this.durability = new Durability(c, run, this);
    this.changes = new WorkerChanges(c, run, this);
    this.plane = new PlaneViews(c, run);
    run.durability = durability;
  }

  /** Every recruit is prepared: the first round of this incarnation goes out. */
  static Behavior<Command> start(CoordinatorContext c, JobRun run) {
    Training t = new Training(c, run);
    run.pool.start(run.job().tree());
    run.placementChanged("training from round " + (run.loop.done() + 1), run.pool.live());
    c.watchers.tell(t.accepted());
    run.inc.dispatching(System.currentTimeMillis());
    if (run.inc.replayUntil() > 0 && run.loop.done() == run.inc.replayUntil()) {
      run.finishReplay();
    }
    if (run.loop.finished()) {
      t.stage = Stage.FINISHING; // every round was restored: only the outcome is missing
      return t.durability.maybeFinish();
    }
    t.startRound();
    return t;
  }

  Stage stage() {
    return stage;
  }

  void ended() {
    stage = Stage.ENDED;
    plane.shutdown();
  }

  @Override
  String phase() {
    return stage.name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  JobProtocol.Placement placement() {
    return placement(
        run.pool.byNode(stage == Stage.TRAINING ? run.pool.live() : List.of()),
        run.commits.durableRound());
  }

  @Override
  public Receive<Command> createReceive() {
    return common(
            durability.handlers(
                newReceiveBuilder()
                    .onMessage(FromWorker.class, this::onWorkerReply)
                    .onMessage(JobCoordinator.PlaneSummed.class, this::onPlaneSummed)
                    .onMessage(RoundDeadline.class, changes::onDeadline)
                    .onMessage(
                        JobCoordinator.WorkersListed.class,
                        l -> {
                          if (stage == Stage.TRAINING) {
                            run.prepare(
                                run.pool.joiners(
                                    l.listing()
                                        .getServiceInstances(
                                            dev.anvil.core.protocol.TrainingProtocol.WORKERS),
                                    run.wanted));
                          }
                          return this;
                        })
                    .onMessage(
                        JobCoordinator.ReachabilityChanged.class,
                        r -> Membership.reachability(r, run.pool, changes::lose, this))
                    .onMessage(JobCoordinator.MemberLeaving.class, changes::onLeaving)
                    .onMessage(
                        JobCoordinator.MemberGone.class,
                        g -> Membership.removed(g, run.pool, changes::lose, this))
                    .onMessage(
                        JobCoordinator.MemberDown.class,
                        d -> changes.lose(d.event().member().uniqueAddress(), "downed"))
                    .onMessage(Evaluated.class, this::onEvaluated)
                    .onMessage(
                        JobProtocol.Watch.class,
                        w -> {
                          if (c.watchers.add(w.replyTo()) && stage == Stage.TRAINING) {
                            w.replyTo().tell(accepted());
                          }
                          return this;
                        })
                    .onMessage(JobProtocol.Pause.class, this::onPause)
                    .onMessage(JobProtocol.Resume.class, this::onResume)
                    .onMessage(
                        JobProtocol.Cancel.class,
                        x -> {
                          c.watchers.add(x.replyTo());
                          run.cancel(x.reason());
                          return this;
                        })
                    .onMessage(
                        JobProtocol.Export.class,
                        e ->
                            export(
                                e,
                                run.checkpoints.newestFirst(),
                                String.valueOf(run.spec.checkpoint().everyRounds())))))
        .build();
  }

  Accepted accepted() {
    return new Accepted(
        c.jobId,
        run.job().totalRounds(),
        run.job().model().describe(),
        run.pool.live().size(),
        run.pool.assignment().nodes(),
        WorkerPool.hostPort(c.actor.getSystem().address()));
  }

  void startRound() {
    run.loop.startRound();
    run.stats.roundStarted(System.nanoTime());
    long round = run.loop.done();
    List<WorkerPool.Dispatch> work =
        run.pool.dispatchRound(round, run.job().tree(), c.settings.suspectProbation());
    // A new view's first round connects the workers and carries the state: 8 deadlines long.
    int attempt = 1;
    JobCoordinator.PlaneSummed ahead = aheadSum;
    aheadSum = null;
    if (plane.usable(round, work)) {
      attempt = plane.dispatch(round, work, run.loop.state()) ? NEW_VIEW_ATTEMPT : 1;
      if (ahead != null && ahead.round() == round) {
        c.actor.getSelf().tell(ahead); // its sum came in before the round started here
      }
    } else {
      send(work);
    }
    if (run.deadlines.armed()) {
      c.timers.startSingleTimer(
          RoundDeadline.KEY, new RoundDeadline(round, attempt), run.deadlines.deadline(attempt));
    }
  }

  /** Whether the current round is a data-plane round not given up yet. */
  boolean planeRound() {
    return plane.active(run.loop.done());
  }

  /**
   * The current plane round is given up ({@code why}; {@code failure}: the plane failed, rather
   * than a worker being lost): its view ends and the round goes to the live workers over Artery. A
   * failure that points at one of the view's workers ({@code blamed}: its index, else -1) is that
   * worker's: it sits out (a suspect, as after a missed deadline) and the plane is not held
   * against; any other counts toward giving the plane up for the job.
   */
  void roundOverArtery(String why, boolean failure, int blamed) {
    long round = run.loop.done();
    var culprit = failure ? plane.workerAt(blamed) : null;
    if (culprit != null) {
      String name = run.pool.nameOf(culprit);
      int nodes = plane.nodesAt(blamed);
      plane.close();
      run.pool.suspect(name, round);
      run.recoveries.planePeer(
          round + 1,
          name,
          why,
          run.lastHeardFrom(List.of(name)),
          System.currentTimeMillis(),
          run.lastCommittedMillis,
          nodes);
      c.log()
          .info(
              "job {}: round {}: worker {} failed on the data plane ({}); its {} tree nodes go"
                  + " to the others over Artery",
              c.jobId,
              round + 1,
              name,
              why,
              nodes);
    } else if (failure && plane.failed(round)) {
      c.log()
          .warn(
              "job {}: round {}: the data plane failed {} times in a row ({}); the job's rounds"
                  + " go through the coordinator from now on",
              c.jobId,
              round + 1,
              PlaneViews.FAILURES_TO_GIVE_UP,
              why);
    } else {
      if (!failure) {
        plane.close();
      }
      c.log().info("job {}: round {} goes over Artery: {}", c.jobId, round + 1, why);
    }
    send(run.pool.dispatchRound(round, run.job().tree(), c.settings.suspectProbation()));
  }

  /** Sends each worker its tree nodes of the current round, with the parameters. */
  void send(List<WorkerPool.Dispatch> work) {
    float[] params = run.loop.state().params().clone();
    long round = run.loop.done();
    for (WorkerPool.Dispatch d : work) {
      d.worker()
          .tell(
              new ComputeNodes(
                  c.jobId, run.inc.coordinatorEpoch(), round, params, d.nodes(), c.replies));
    }
  }

  private Behavior<Command> onWorkerReply(FromWorker f) {
    if (f.reply() instanceof NodeResult n) {
      return stage == Stage.TRAINING && n.epoch() == run.inc.coordinatorEpoch()
          ? onResult(n)
          : this;
    } else if (f.reply() instanceof Prepared p && p.epoch() == run.inc.coordinatorEpoch()) {
      return changes.onJoinerPrepared(p);
    } else if (f.reply() instanceof PrepareFailed pf && pf.epoch() == run.inc.coordinatorEpoch()) {
      run.pool.joinFailed(pf.worker());
      c.log().warn("job {}: worker {} cannot join: {}", c.jobId, pf.worker(), pf.reason());
    } else if (f.reply() instanceof ParamsMissing pm
        && stage == Stage.TRAINING
        && pm.round() == run.loop.done()) {
      if (planeRound()) {
        plane.resendState(pm.worker(), pm.round(), run.loop.state());
      } else {
        send(run.pool.named(pm.worker()));
      }
    } else if (f.reply() instanceof PlaneDone d && stage == Stage.TRAINING) {
      onPlaneDone(d);
    } else if (f.reply() instanceof PlaneFailed pf
        && stage == Stage.TRAINING
        && pf.round() == run.loop.done()
        && plane.current(pf.view(), pf.round())
        && !run.loop.round().complete()) {
      roundOverArtery(pf.reason(), true, pf.blamed());
    }
    return this;
  }

  /**
   * Whether round {@code next} may go out before this one is applied: it exists, and nothing asked
   * for so far (a pause, a cancel, a journal too far behind) would stop the rounds before it.
   */
  private boolean aheadAllowed(long next) {
    return next < run.job().totalRounds()
        && !run.pauseRequested
        && run.cancelReason == null
        && !run.commits.tooFarAhead(next);
  }

  private void onPlaneDone(PlaneDone d) {
    run.heardFrom(d.worker());
    run.pool.delivered(d.worker());
    if (d.round() == run.loop.done() && plane.currentView(d.view())) {
      run.stats.accepted(System.nanoTime(), d.computeNanos());
    }
  }

  /** The observer has the round's sum: checked like a worker's result, then applied. */
  private Behavior<Command> onPlaneSummed(JobCoordinator.PlaneSummed s) {
    long round = run.loop.done();
    if (stage == Stage.TRAINING
        && s.round() == round
        && plane.currentView(s.view())
        && run.loop.round().round() != round) {
      aheadSum = s; // sent ahead, in before its round started here: taken when it starts
      return this;
    }
    if (stage != Stage.TRAINING
        || s.round() != round
        || !plane.current(s.view(), s.round())
        || run.loop.round().complete()) {
      return this;
    }
    if (s.error() != null) {
      roundOverArtery(s.error(), true, s.blamed());
      return this;
    }
    GradientSum sum = s.sum();
    String bad =
        ResultCheck.problem(
            sum.grad(), sum.lossSum(), sum.samples(), run.job().model().parameterCount());
    if (bad != null) {
      roundOverArtery("the workers' sum has " + bad, true, -1);
      return this;
    }
    if (aheadAllowed(round + 1)) {
      plane.sendAhead(round + 1);
    }
    run.loop.acceptSum(round, sum);
    run.stats.planeRound();
    plane.succeeded();
    return roundComplete();
  }

  private Behavior<Command> onResult(NodeResult n) {
    run.heardFrom(n.worker());
    long round = run.loop.done();
    if (n.round() == round && !run.pool.expected(n.round(), n.worker(), n.node())) {
      if (run.stats.undispatched()) {
        c.log()
            .warn(
                "job {}: round {}: dropped a result for {} from {}, which was not sent"
                    + " that work (further ones are dropped silently)",
                c.jobId,
                n.round() + 1,
                n.node(),
                n.worker());
      }
      return this;
    }
    String bad =
        n.round() == round
            ? ResultCheck.problem(
                n.grad(), n.lossSum(), n.samples(), run.job().model().parameterCount())
            : null;
    if (bad != null) {
      return reject(n, bad);
    }
    RoundState.Outcome outcome = run.loop.accept(n);
    if (outcome == RoundState.Outcome.DUPLICATE || outcome == RoundState.Outcome.STALE) {
      run.stats.late();
      c.metrics.lateResult();
    }
    if (outcome != RoundState.Outcome.INVALID) {
      run.pool.delivered(n.worker());
    }
    if (outcome == RoundState.Outcome.ACCEPTED) {
      run.stats.accepted(System.nanoTime(), n.computeNanos());
    }
    return run.loop.complete() ? roundComplete() : this;
  }

  /**
   * A result that must not be applied (non-finite values, a wrong length): counted, never reduced.
   * Its tree node goes to another worker and the sender sits out until it delivers a good result. A
   * round that keeps getting bad results fails the job.
   */
  private Behavior<Command> reject(NodeResult n, String problem) {
    int thisRound = run.stats.rejected();
    c.metrics.rejectedResult();
    c.log()
        .warn(
            "job {}: round {}: rejected the result of {} for shards {}..{} from worker {}:" + " {}",
            c.jobId,
            n.round() + 1,
            n.node(),
            n.node().from(),
            n.node().to(run.spec.logicalShards()) - 1,
            n.worker(),
            problem);
    if (thisRound > c.settings.badResultsPerRound()) {
      return run.fail(
          "round "
              + (n.round() + 1)
              + ": "
              + thisRound
              + " results rejected, more"
              + " than anvil.coordinator.bad-results-per-round = "
              + c.settings.badResultsPerRound()
              + " (last from worker "
              + n.worker()
              + ": "
              + problem
              + "); the workers keep"
              + " returning bad gradients");
    }
    run.pool.suspect(n.worker(), n.round());
    if (thisRound == 1) {
      run.recoveries.badGradient(
          n.round() + 1, n.worker(), problem, System.currentTimeMillis(), run.lastCommittedMillis);
    }
    if (!run.loop.round().covers(n.node())) {
      run.stats.redispatched(1);
      c.metrics.redispatched(1);
      send(run.pool.handOut(List.of(n.node()), run.pool.activeExcept(n.worker())));
    }
    return this;
  }

  /** The round is complete: reduce, apply, hand it to the journal, and decide what follows. */
  private Behavior<Command> roundComplete() {
    long replayUntil = run.inc.replayUntil();
    RoundLoop.Step step;
    try {
      step = run.loop.step(run.incremental() && run.loop.done() >= replayUntil);
    } catch (DivergedException e) {
      return run.fail(e.getMessage());
    }
    c.timers.cancel(RoundDeadline.KEY);
    long wall = run.stats.roundDone(System.nanoTime(), step.reduceNanos(), step.updateNanos());
    run.deadlines.roundTook(wall);
    c.metrics.roundComputed(wall);
    long done = step.round();
    if (done > replayUntil) {
      durability.computed(step);
    } else if (done == replayUntil) {
      String failure = run.replayed(step.loss());
      if (failure != null) {
        return run.fail(failure);
      }
    }
    run.loop.counted(step.loss());
    if (run.loop.evaluationDue()) {
      run.evaluate(done);
    }
    int every = run.spec.checkpoint().everyRounds();
    if (done > replayUntil && every > 0 && done % every == 0 && done < run.job().totalRounds()) {
      durability.capture();
    }
    return next(done);
  }

  private Behavior<Command> next(long done) {
    switch (RoundLoop.next(
        done,
        run.job().totalRounds(),
        run.inc.replayUntil(),
        run.pauseRequested,
        run.commits.tooFarAhead(done),
        run.cancelReason != null)) {
      case PAUSE -> {
        stage = Stage.PAUSING;
        durability.beginPause(done);
      }
      case STALL -> durability.stall(done);
      case HOLD -> c.log().debug("job {}: cancel requested, no round after {}", c.jobId, done);
      case ROUND -> startRound();
      case FINISH -> {
        stage = Stage.FINISHING;
        durability.flushNow();
        return durability.maybeFinish();
      }
    }
    return this;
  }

  /** The journal caught up after a stall: go on (or pause, if one was asked for meanwhile). */
  void resumeAfterStall() {
    if (stage != Stage.TRAINING || run.cancelReason != null) {
      return;
    }
    if (run.pauseRequested) {
      stage = Stage.PAUSING;
      durability.beginPause(run.loop.done());
    } else if (!run.loop.finished()) {
      startRound();
    }
  }

  private Behavior<Command> onEvaluated(Evaluated e) {
    if (e.error() != null) {
      return run.fail("evaluation failed: " + e.error());
    }
    run.checkpoints.evaluated(e.report().round());
    run.loop.evaluated(e.report());
    durability.writeCheckpoint();
    return durability.maybeFinish();
  }

  private Behavior<Command> onPause(JobProtocol.Pause p) {
    c.watchers.add(p.replyTo());
    if (stage == Stage.TRAINING) {
      run.pauseRequested = true;
      c.log().info("job {}: pause requested", c.jobId);
    }
    return this; // pausing or finishing: the outcome comes anyway
  }

  private Behavior<Command> onResume(JobProtocol.Resume r) {
    c.watchers.add(r.replyTo());
    if (stage != Stage.PAUSING) {
      run.pauseRequested = false;
      r.replyTo().tell(accepted());
    }
    return this;
  }

  @Override
  Behavior<Command> onRecorded(Ack ack) {
    Behavior<Command> next = super.onRecorded(ack);
    return ack.what() == JobJournal.Recorded.SUPERSEDED ? next : durability.onRecorded(ack);
  }

  @Override
  Behavior<Command> resend(JobJournal.Recorded what) {
    return durability.resend(what) ? this : super.resend(what);
  }

  @Override
  Behavior<Command> onStop() {
    plane.shutdown();
    if (stage != Stage.PAUSING) {
      c.log()
          .info(
              "job {}: handing off at round {} ({} durable)",
              c.jobId,
              run.loop.done(),
              run.commits.durableRound());
    }
    c.release(run.pool.recruits());
    return super.onStop();
  }
}
