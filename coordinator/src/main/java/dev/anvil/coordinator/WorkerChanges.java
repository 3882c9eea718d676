package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.RoundDeadline;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.UniqueAddress;

/**
 * What {@link Training} does when its workers change: a worker late past the round's deadline, a
 * node lost or leaving (its work goes to the live workers at once, re-dispatched by {@link
 * WorkerPool}'s decision), a worker prepared to join. Each records the recovery it starts and says
 * so in the log and the placement.
 */
final class WorkerChanges {
  private final CoordinatorContext c;
  private final JobRun run;
  private final Training training;

  WorkerChanges(CoordinatorContext c, JobRun run, Training training) {
    this.c = c;
    this.run = run;
    this.training = training;
  }

  /**
   * Work not back by the round's deadline goes at once to workers that are answering; the late
   * workers are left out of the following rounds until a result of theirs arrives. A crashed worker
   * thus costs one deadline, not the failure detector's seconds; a slow one costs duplicate work,
   * never other bits (the first result of a shard wins).
   */
  Behavior<Command> onDeadline(RoundDeadline d) {
    long round = run.loop.done();
    if (training.stage() != Training.Stage.TRAINING
        || d.round() != round
        || run.loop.round().complete()) {
      return training;
    }
    if (training.planeRound()) {
      training.roundOverArtery("not complete by its deadline on the data plane", true, -1);
      c.timers.startSingleTimer(
          RoundDeadline.KEY,
          new RoundDeadline(d.round(), d.attempt() + 1),
          run.deadlines.deadline(d.attempt() + 1));
      return training;
    }
    WorkerPool.Redispatch r = run.pool.missedDeadline(round, run.loop.round());
    if (r != null) {
      int n = r.missing().size();
      run.stats.redispatched(n);
      c.metrics.redispatched(n);
      run.recoveries.deadline(
          round + 1,
          r.late(),
          run.lastHeardFrom(r.late()),
          System.currentTimeMillis(),
          run.lastCommittedMillis,
          n);
      c.log()
          .info(
              "job {}: round {} not complete after {} ms; {} late past its deadline; {}"
                  + " tree nodes re-dispatched to {} workers",
              c.jobId,
              round + 1,
              run.stats.roundNanos(System.nanoTime()) / 1_000_000,
              r.late(),
              n,
              r.helpers().size());
      training.send(run.pool.handOut(r.missing(), r.helpers()));
    }
    c.timers.startSingleTimer(
        RoundDeadline.KEY,
        new RoundDeadline(d.round(), d.attempt() + 1),
        run.deadlines.deadline(d.attempt() + 1));
    return training;
  }

  /**
   * Node incarnation {@code node} is gone ({@code how}: unreachable, downed or removed; whichever
   * the coordinator hears first): its workers are dropped from the job at once and the work they
   * had not delivered in this round goes to the live workers. The bits do not change: only the tree
   * fixes them, and a late result from the lost node is a duplicate.
   */
  Behavior<Command> lose(UniqueAddress node, String how) {
    if (node.equals(c.selfNode())) {
      // This coordinator's own node is going: sharding starts the job elsewhere, from the
      // journal. Nothing is decided or recorded here (a downed minority must not fail a job).
      return training;
    }
    if (!run.pool.lost(node) || training.stage() != Training.Stage.TRAINING) {
      return training; // heard already (unreachable, then downed, then removed)
    }
    WorkerPool.Loss loss = run.pool.loseLive(node, run.loop.round());
    if (loss == null) {
      return training;
    }
    if (loss.noneLeft()) {
      return run.fail(
          "every worker of the job is on unreachable nodes (last: " + node.address() + ")");
    }
    long round = run.loop.done() + 1;
    String hostPort = WorkerPool.hostPort(node);
    int n = loss.missing().size();
    run.placementChanged("node " + hostPort + " " + how + " in round " + round, run.pool.live());
    run.stats.redispatched(n);
    c.metrics.redispatched(n);
    c.metrics.nodeLost();
    run.recoveries.nodeLost(
        hostPort,
        node.longUid(),
        how,
        round,
        loss.gone().size(),
        run.lastHeardFrom(loss.gone().stream().map(run.pool::nameOf).toList()),
        System.currentTimeMillis(),
        run.lastCommittedMillis,
        n);
    c.log()
        .warn(
            "job {}: node {} {} in round {}; {} workers left, {} tree nodes of this round"
                + " re-dispatched",
            c.jobId,
            hostPort,
            how,
            round,
            run.pool.live().size(),
            n);
    if (training.planeRound()) {
      training.roundOverArtery("node " + hostPort + " " + how, false, -1);
    } else if (n > 0) {
      training.send(run.pool.handOut(loss.missing(), run.pool.active()));
    }
    return training;
  }

  /**
   * A node is leaving the cluster gracefully: its workers finish the work they have and take no
   * more; from the next round the live workers share it. Nothing is re-dispatched, since their
   * results still arrive (the deadline covers the case where they do not).
   */
  Behavior<Command> onLeaving(JobCoordinator.MemberLeaving m) {
    UniqueAddress node = m.event().member().uniqueAddress();
    if (!run.pool.lost(node) || training.stage() != Training.Stage.TRAINING) {
      return training;
    }
    List<?> gone = run.pool.retire(node);
    if (gone.isEmpty()) {
      return training;
    }
    long done = run.loop.done();
    String hostPort = WorkerPool.hostPort(node);
    run.placementChanged("node " + hostPort + " is leaving after round " + done, run.pool.live());
    run.recoveries.nodeLeft(
        hostPort,
        node.longUid(),
        done,
        gone.size(),
        System.currentTimeMillis(),
        run.lastCommittedMillis);
    c.log()
        .info(
            "job {}: node {} is leaving; its {} workers finish round {} and the {}"
                + " others take over from round {}",
            c.jobId,
            node.address(),
            gone.size(),
            done + 1,
            run.pool.live().size(),
            done + 2);
    return training;
  }

  /** A worker prepared to join the running job: it takes part from the round after next. */
  Behavior<Command> onJoinerPrepared(Prepared p) {
    UniqueAddress node =
        training.stage() == Training.Stage.TRAINING ? run.pool.joinerAnswered(p.self()) : null;
    if (node == null) {
      return training;
    }
    var problem = run.preparationProblem(p);
    if (problem.isPresent()) {
      c.log().warn("job {}: worker {} refused: {}", c.jobId, p.worker(), problem.get());
      p.self().tell(new ReleaseJob(c.jobId));
      return training;
    }
    if (!run.pool.admit(p.self(), p, node)) {
      return training; // its node was lost while the worker prepared
    }
    long from = run.loop.done() + 2;
    if (!Membership.noteRejoin(run, p, node, from)) {
      c.log().info("job {}: worker {} joins from round {}", c.jobId, p.worker(), from);
    }
    run.placementChanged("worker " + p.worker() + " joins from round " + from, run.pool.live());
    return training;
  }
}
