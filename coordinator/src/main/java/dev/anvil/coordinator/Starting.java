package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.Evaluated;
import dev.anvil.coordinator.JobCoordinator.FromWorker;
import dev.anvil.coordinator.JobCoordinator.Loaded;
import dev.anvil.coordinator.JobCoordinator.Restored;
import dev.anvil.coordinator.JobCoordinator.WorkersListed;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.PrepareFailed;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.core.train.Canary;
import dev.anvil.core.train.DivergedException;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.ReceiveBuilder;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.UniqueAddress;

/**
 * A job on its way to its first round in this incarnation: the epoch is recorded, the job loaded,
 * its newest verified checkpoint (and, in incremental mode, the gradient log) restored, then
 * workers are recruited and prepared. Training starts when every recruit is prepared.
 */
final class Starting extends CoordinatorBehavior {
  private enum Step {
    LOADING,
    RECRUITING,
    PREPARING
  }

  private final JobRun run;
  private Step step = Step.LOADING;
  private boolean restoring;

  /** How many workers were listed last. */
  private int available;

  private Starting(CoordinatorContext c, JobRun run, PreparedJob checked) {
    super(c);
    this.run = run;
    c.journal.send(new JobJournal.StartEpoch(c.hostPort(), c.acks), JobJournal.Recorded.STARTED);
    load(checked != null && checked.spec().equals(run.spec) ? checked : null);
  }

  /** A job just submitted with {@code spec}. */
  static Behavior<Command> submitted(CoordinatorContext c, JobSpec spec, JournalState recorded) {
    return new Starting(c, new JobRun(c, spec, recorded, false, false), null);
  }

  /**
   * A new incarnation of an unfinished job: records the next epoch, loads the job from its
   * journaled spec and restores the committed rounds (same bits, not recorded again) before it
   * commits new ones. The first round after the replay completes a coordinator-restart recovery,
   * unless the job was {@code resuming} from a pause or an import.
   */
  static Behavior<Command> takeOver(
      CoordinatorContext c, JournalState recorded, boolean resuming, PreparedJob checked) {
    JobSpec spec;
    try {
      spec = JobSpecParser.parseUntrusted(recorded.spec(), "job " + c.jobId, c.specRules);
    } catch (JobSpecException e) {
      return Ended.failedAtStart(
          c, recorded, "the journaled spec no longer parses: " + e.getMessage());
    }
    CheckpointCommitted newest = recorded.newestCheckpoint();
    if (resuming) {
      c.log()
          .info(
              "job {}: resuming from the checkpoint of round {}",
              c.jobId,
              newest == null ? 0 : newest.round());
    } else {
      c.log()
          .info(
              "job {}: taking over after epoch {} with {} rounds committed; continuing"
                  + " from {}",
              c.jobId,
              recorded.epoch(),
              recorded.lastRound(),
              newest == null
                  ? "round 0 (no checkpoint)"
                  : "the checkpoint of round " + newest.round());
    }
    return new Starting(c, new JobRun(c, spec, recorded, true, resuming), checked);
  }

  @Override
  String phase() {
    return step.name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  JobProtocol.Placement placement() {
    return placement(
        run.pool.byNode(step == Step.PREPARING ? run.pool.recruits() : List.of()),
        run.commits == null ? 0 : run.commits.durableRound());
  }

  @Override
  public Receive<Command> createReceive() {
    return common(
            requests(
                newReceiveBuilder()
                    .onMessage(Loaded.class, this::onLoaded)
                    .onMessage(Restored.class, this::onRestored)
                    .onMessage(WorkersListed.class, this::onWorkers)
                    .onMessage(JobCoordinator.RecruitTimeout.class, t -> recruitTimedOut())
                    .onMessage(FromWorker.class, this::onWorkerReply)
                    .onMessage(Evaluated.class, this::onEvaluated)
                    .onMessage(
                        JobCoordinator.ReachabilityChanged.class,
                        r -> Membership.reachability(r, run.pool, this::lost, this))
                    .onMessage(
                        JobCoordinator.MemberLeaving.class,
                        m -> {
                          run.pool.lost(m.event().member().uniqueAddress());
                          return this;
                        })
                    .onMessage(
                        JobCoordinator.MemberGone.class,
                        g -> Membership.removed(g, run.pool, this::lost, this))
                    .onMessage(
                        JobCoordinator.MemberDown.class,
                        d -> lost(d.event().member().uniqueAddress(), "downed"))))
        .build();
  }

  private Behavior<Command> recruitTimedOut() {
    return run.fail(
        "needs "
            + run.wanted
            + " workers but found "
            + available
            + " within "
            + c.settings.recruitTimeout().toSeconds()
            + " s");
  }

  /** What clients ask of a starting job: a pause waits for its first round boundary. */
  private ReceiveBuilder<Command> requests(ReceiveBuilder<Command> b) {
    return b.onMessage(
            JobProtocol.Watch.class,
            w -> {
              c.watchers.add(w.replyTo());
              return this;
            })
        .onMessage(
            JobProtocol.Pause.class,
            p -> {
              c.watchers.add(p.replyTo());
              run.pauseRequested = true;
              c.log().info("job {}: pause requested", c.jobId);
              return this;
            })
        .onMessage(
            JobProtocol.Resume.class,
            r -> {
              c.watchers.add(r.replyTo());
              return this;
            })
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
                    String.valueOf(run.spec.checkpoint().everyRounds())));
  }

  /** Loads the job (data, model, canary) off the actor's thread; {@code checked}: done. */
  private void load(PreparedJob checked) {
    JobSpec spec = run.spec;
    SpecRules rules = c.specRules;
    String what = "job " + c.jobId;
    c.pipe(
        () -> {
          PreparedJob p = checked != null ? checked : PreparedJob.prepare(spec, what, rules);
          return new Loaded(p, Canary.of(p), null);
        },
        loaded -> loaded,
        error -> new Loaded(null, null, error));
  }

  private Behavior<Command> onLoaded(Loaded l) {
    if (l.error() != null) {
      return run.fail("cannot prepare the job: " + l.error());
    }
    long params = l.job().model().parameterCount();
    long bytes = 4L * params + SpecRules.FRAME_OVERHEAD;
    long frame =
        c.actor
            .getSystem()
            .settings()
            .config()
            .getBytes("pekko.remote.artery.advanced.maximum-frame-size");
    if (bytes > frame) {
      return run.fail(
          "the model has "
              + params
              + " parameters ("
              + bytes
              + " bytes a"
              + " message), more than pekko.remote.artery.advanced.maximum-frame-size = "
              + frame
              + " bytes allows; raise it on every node");
    }
    run.loop = new RoundLoop(l.job());
    run.canary = l.canary();
    run.commits = new CommitPipeline(c.settings, params, run.incremental());
    long replayUntil = run.inc.replayUntil();
    if (replayUntil > l.job().totalRounds()) {
      return run.fail(
          "the journal records "
              + replayUntil
              + " rounds but the job has only "
              + l.job().totalRounds());
    }
    if (!run.inc.recorded().checkpoints().isEmpty() || (run.incremental() && replayUntil > 0)) {
      restore();
    }
    return recruitWhenReady();
  }

  /**
   * Loads the newest journaled checkpoint whose bytes verify (the journaled SHA-256, then the
   * format's own trailer and the job it belongs to); a missing or corrupt one is skipped, with a
   * warning, for the one before. With none left, the job recomputes from round 0.
   */
  private void restore() {
    restoring = true;
    List<CheckpointCommitted> refs = run.checkpoints.newestFirst();
    String fingerprint = run.job().dataFingerprint();
    boolean logged = run.incremental();
    long until = run.inc.replayUntil();
    c.pipe(
        () -> c.io.restore(refs, fingerprint, logged, until),
        r -> new Restored(r, null),
        error -> new Restored(null, error));
  }

  private Behavior<Command> onRestored(Restored r) {
    restoring = false;
    if (r.error() != null) {
      return run.fail("cannot read the checkpoints: " + r.error());
    }
    for (String skipped : r.restore().skipped()) {
      c.log().warn("job {}: checkpoint skipped, {}", c.jobId, skipped);
    }
    Checkpoint k = r.restore().checkpoint();
    long replayUntil = run.inc.replayUntil();
    if (k != null) {
      run.loop.restore(k);
      run.inc.restoredCheckpoint(k.round());
      c.log()
          .info(
              "job {}: restored the checkpoint of round {}; {} rounds to recompute",
              c.jobId,
              k.round(),
              replayUntil - k.round());
    } else if (!run.inc.recorded().checkpoints().isEmpty()) {
      c.log()
          .warn(
              "job {}: no checkpoint verifies; restoring all {} committed rounds from" + " round 0",
              c.jobId,
              replayUntil);
    }
    List<RoundGradient> gradients = r.restore().gradients();
    if (!gradients.isEmpty()) {
      String failure = replayLog(gradients);
      if (failure != null) {
        return run.fail(failure);
      }
    }
    return recruitWhenReady();
  }

  /** Applies the logged gradients; the failure, or null. */
  private String replayLog(List<RoundGradient> gradients) {
    run.inc.replayingLog(System.currentTimeMillis());
    for (RoundGradient g : gradients) {
      try {
        run.loop.replay(g);
      } catch (DivergedException e) {
        return "replaying the gradient log: " + e.getMessage();
      }
      if (run.loop.evaluationDue()) {
        run.evaluate(run.loop.done());
      }
    }
    run.inc.replayedLog(gradients.size());
    c.log()
        .info(
            "job {}: replayed the logged gradients of rounds {}..{} in {} ms (no"
                + " recomputation)",
            c.jobId,
            run.inc.restoredFrom() + 1,
            run.loop.done(),
            System.currentTimeMillis() - run.inc.resumedMillis());
    if (run.loop.done() == run.inc.replayUntil()) {
      return run.replayed(run.loop.lastLoss());
    }
    return null;
  }

  /** Recruits workers once the job is loaded and restored, and the epoch is recorded. */
  private Behavior<Command> recruitWhenReady() {
    if (step != Step.LOADING || run.loop == null || run.inc.coordinatorEpoch() == 0 || restoring) {
      return this;
    }
    step = Step.RECRUITING;
    c.actor
        .getSystem()
        .receptionist()
        .tell(
            Receptionist.subscribe(
                TrainingProtocol.WORKERS,
                c.actor.messageAdapter(Receptionist.Listing.class, WorkersListed::new)));
    c.timers.startSingleTimer(JobCoordinator.RecruitTimeout.INSTANCE, c.settings.recruitTimeout());
    return this;
  }

  /**
   * A new job starts once {@code wanted} workers are listed. A job taken over from an earlier
   * incarnation goes on with the workers there are (at least one): up to {@code wanted} of them;
   * more join from the round after they are prepared.
   */
  private Behavior<Command> onWorkers(WorkersListed l) {
    Set<ActorRef<WorkerCommand>> listed = l.listing().getServiceInstances(TrainingProtocol.WORKERS);
    available = listed.size();
    int needed = run.inc.replayUntil() > 0 ? 1 : run.wanted;
    if (step != Step.RECRUITING || listed.size() < needed) {
      return this;
    }
    c.timers.cancel(JobCoordinator.RecruitTimeout.INSTANCE);
    step = Step.PREPARING;
    Membership.subscribe(c);
    run.prepare(run.pool.recruit(listed, run.wanted));
    return this;
  }

  private Behavior<Command> onWorkerReply(FromWorker f) {
    if (f.reply() instanceof Prepared p && p.epoch() == run.inc.coordinatorEpoch()) {
      return onPrepared(p);
    }
    if (f.reply() instanceof PrepareFailed pf && pf.epoch() == run.inc.coordinatorEpoch()) {
      return run.fail("worker " + pf.worker() + " cannot take part: " + pf.reason());
    }
    return this;
  }

  private Behavior<Command> onPrepared(Prepared p) {
    if (step != Step.PREPARING || !run.pool.isRecruit(p.self())) {
      return this;
    }
    var problem = run.preparationProblem(p);
    if (problem.isPresent()) {
      return run.fail(problem.get());
    }
    run.pool.prepared(p.self(), p);
    var node = run.pool.recruitedOn(p.self());
    if (node != null) {
      Membership.noteRejoin(run, p, node, run.loop.done() + 1);
    }
    return startWhenAllPrepared();
  }

  /** A recruit's node was lost before the job started: go on without it. */
  private Behavior<Command> lost(UniqueAddress node, String how) {
    if (node.equals(c.selfNode()) || !run.pool.lost(node) || step != Step.PREPARING) {
      return this;
    }
    if (!run.pool.dropUnprepared(node)) {
      return run.fail(
          "every recruited worker is on unreachable nodes (last: " + node.address() + ")");
    }
    return startWhenAllPrepared();
  }

  private Behavior<Command> startWhenAllPrepared() {
    return run.pool.allPrepared() ? Training.start(c, run) : this;
  }

  private Behavior<Command> onEvaluated(Evaluated e) {
    if (e.error() != null) {
      return run.fail("evaluation failed: " + e.error());
    }
    run.checkpoints.evaluated(e.report().round());
    run.loop.evaluated(e.report());
    return this;
  }

  @Override
  Behavior<Command> onRecorded(Ack ack) {
    Behavior<Command> next = super.onRecorded(ack);
    switch (ack.what()) {
      case STARTED -> {
        if (run.inc.started(ack.epoch())) {
          c.log().info("job {}: coordinator epoch {} on {}", c.jobId, ack.epoch(), c.hostPort());
          return recruitWhenReady();
        }
      }
      case RECOVERY -> run.recoveryAcknowledged();
      case CANCELLED -> {
        return run.end(run.cancelReason, false);
      }
      default -> {}
    }
    return next;
  }

  @Override
  Behavior<Command> resend(JobJournal.Recorded what) {
    switch (what) {
      case STARTED -> {
        if (run.inc.coordinatorEpoch() == 0) {
          c.journal.resend(what);
        }
      }
      case RECOVERY -> run.resendRecoveries();
      default -> super.resend(what);
    }
    return this;
  }

  @Override
  Behavior<Command> onStop() {
    c.release(run.pool.recruits());
    return super.onStop();
  }
}
