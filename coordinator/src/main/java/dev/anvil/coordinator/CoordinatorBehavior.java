package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobProtocol.Exported;
import dev.anvil.coordinator.JobProtocol.Rejected;
import dev.anvil.coordinator.JournalCommands.Ack;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.ReceiveBuilder;
import org.apache.pekko.cluster.UniqueAddress;

/**
 * What every phase of a coordinator does alike: placement, sharding's stop, the journal's timeouts
 * and acknowledgements, exports, and ignoring the late answers of an earlier phase.
 */
abstract class CoordinatorBehavior extends AbstractBehavior<Command> {
  protected final CoordinatorContext c;

  CoordinatorBehavior(CoordinatorContext c) {
    super(c.actor);
    this.c = c;
  }

  /** The phase's name in placements: what the job is doing. */
  abstract String phase();

  /** The handlers every phase shares; the phase's own come first. */
  ReceiveBuilder<Command> common(ReceiveBuilder<Command> b) {
    return b.onMessage(
            JobProtocol.GetPlacement.class,
            g -> {
              g.replyTo().tell(placement());
              return this;
            })
        .onMessage(JobCoordinator.Stop.class, s -> onStop())
        .onMessage(JournalLink.Timeout.class, this::onJournalTimeout)
        .onMessage(JobCoordinator.Recorded.class, r -> onRecorded(r.ack()))
        .onMessage(
            JobProtocol.Submit.class,
            s -> {
              c.watchers.add(s.replyTo()); // already running: the submitter is now a watcher
              return this;
            })
        .onMessage(
            JobProtocol.Import.class,
            i -> {
              i.replyTo()
                  .tell(
                      new Rejected(
                          c.jobId,
                          "job "
                              + c.jobId
                              + " already exists here;"
                              + " import it under another job id"));
              return this;
            })
        .onSignal(
            PostStop.class,
            s -> {
              c.io.close();
              return this;
            })
        .onAnyMessage(m -> this); // late answers to an earlier phase
  }

  /**
   * The requests of a phase with no job yet: a watch is kept, a pause, resume or cancel is refused
   * with {@code refusal} of the request's name, an export finds no job.
   */
  ReceiveBuilder<Command> noJobYet(ReceiveBuilder<Command> b, UnaryOperator<String> refusal) {
    return b.onMessage(
            JobProtocol.Watch.class,
            w -> {
              c.watchers.add(w.replyTo());
              return this;
            })
        .onMessage(JobProtocol.Pause.class, p -> refuse(p.replyTo(), refusal.apply("pause")))
        .onMessage(JobProtocol.Resume.class, r -> refuse(r.replyTo(), refusal.apply("resume")))
        .onMessage(JobProtocol.Cancel.class, x -> refuse(x.replyTo(), refusal.apply("cancel")))
        .onMessage(
            JobProtocol.Export.class,
            e -> {
              e.replyTo()
                  .tell(new Exported(c.jobId, 0, null, "there is no job " + c.jobId + " here"));
              return this;
            });
  }

  private Behavior<Command> refuse(ActorRef<JobProtocol.JobUpdate> to, String reason) {
    c.watchers.refuse(to, c.jobId, reason);
    return this;
  }

  /** Where the job runs: no workers unless the phase has them. */
  JobProtocol.Placement placement() {
    return placement(Map.of(), 0);
  }

  /** The placement of workers counted {@code byNode}, with rounds durable up to a round. */
  JobProtocol.Placement placement(Map<UniqueAddress, Integer> byNode, long durableRound) {
    String[] nodes = new String[byNode.size()];
    long[] uids = new long[byNode.size()];
    int[] counts = new int[byNode.size()];
    int i = 0;
    for (var e : byNode.entrySet()) {
      nodes[i] = WorkerPool.hostPort(e.getKey());
      uids[i] = e.getKey().longUid();
      counts[i++] = e.getValue();
    }
    UniqueAddress self = c.selfNode();
    return new JobProtocol.Placement(
        c.jobId,
        phase(),
        durableRound,
        WorkerPool.hostPort(self),
        self.longUid(),
        nodes,
        uids,
        counts);
  }

  /** Sharding hands the job to another node: this incarnation stops (the next takes over). */
  Behavior<Command> onStop() {
    return Behaviors.stopped();
  }

  private Behavior<Command> onJournalTimeout(JournalLink.Timeout t) {
    c.metrics.journalError();
    c.log()
        .warn(
            "job {}: the journal did not acknowledge {} within {} ms; sending it again",
            c.jobId,
            t.what(),
            c.settings.journalAckTimeout().toMillis());
    return resend(t.what());
  }

  /** Sends again what the journal did not acknowledge; phases resend what they own. */
  Behavior<Command> resend(JobJournal.Recorded what) {
    switch (what) {
      case SUBMITTED, CHECKPOINT, PAUSED, RESUMED, CANCELLED, IMPORTED, FAILED ->
          c.journal.resend(what);
      default -> {}
    }
    return this;
  }

  /** The journal acknowledged {@code ack}; phases handle what they wait for. */
  Behavior<Command> onRecorded(Ack ack) {
    if (ack.what() == JobJournal.Recorded.SUPERSEDED) {
      // Its workers are not released: ReleaseJob names no epoch, and they may already be
      // working for the newer incarnation.
      c.log()
          .warn(
              "job {}: this coordinator incarnation is superseded by epoch {} in the"
                  + " journal; it stops without writing",
              c.jobId,
              ack.epoch());
      return Behaviors.stopped();
    }
    if (ack.what() != JobJournal.Recorded.RECOVERY) {
      c.journal.acknowledged(ack.what());
    }
    return this;
  }

  /** Replies with the newest of {@code newestFirst} that verifies, read off the actor. */
  Behavior<Command> export(
      JobProtocol.Export e, List<CheckpointCommitted> newestFirst, String every) {
    if (newestFirst.isEmpty()) {
      e.replyTo()
          .tell(
              new Exported(
                  c.jobId,
                  0,
                  null,
                  "job "
                      + c.jobId
                      + " has no checkpoint"
                      + " yet (it checkpoints every "
                      + every
                      + " rounds; pause it to checkpoint now)"));
      return this;
    }
    String id = c.jobId;
    c.background(
        () -> {
          List<String> skipped = new ArrayList<>();
          CheckpointIo.Verified v = c.io.newestVerified(newestFirst, skipped);
          e.replyTo()
              .tell(
                  v != null
                      ? new Exported(id, v.ref().round(), v.bytes(), null)
                      : new Exported(
                          id, 0, null, "no checkpoint of job " + id + " verifies: " + skipped));
        },
        "export failed");
    return this;
  }
}
