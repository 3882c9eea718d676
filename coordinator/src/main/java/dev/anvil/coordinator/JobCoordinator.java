package dev.anvil.coordinator;

import com.typesafe.config.Config;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.core.protocol.TrainingProtocol.WorkerReply;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.wire.AnvilSerializable;
import dev.anvil.persistence.CheckpointRepository;
import dev.anvil.persistence.CheckpointStore;
import dev.anvil.persistence.DatabaseSettings;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The coordinator of one job: a Cluster Sharding entity that drives the rounds (docs/design.md,
 * "The round protocol") and leaves recording to its {@link JobJournal} child. The actor is a thin
 * shell of four behaviors, one per phase of a job: {@link Idle} (no job here), {@link Starting}
 * (load, restore, recruit, prepare), {@link Training} (rounds, commits, checkpoints, pause, finish)
 * and {@link Ended} (done, failed or paused). Decisions are made by pure parts: {@link WorkerPool}
 * (who computes what), {@link RoundLoop} (the arithmetic, core's {@code ParameterUpdate}), {@link
 * CommitPipeline} and {@link CheckpointPipeline} (what is journaled and written when), {@link
 * Incarnation} (epochs and the replay), {@link Recoveries} and {@link JobStats}.
 *
 * <p>A round's update is applied as soon as the round is complete, and the next round is sent at
 * once; the round is reported committed only when the journal has acknowledged it.
 */
public final class JobCoordinator {
  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "anvil-job");

  private JobCoordinator() {}

  /** Everything a coordinator accepts; the public ones are in {@link JobProtocol}. */
  public interface Command extends AnvilSerializable {}

  /** Sharding's stop message: a graceful hand-off of the job to another node. */
  public enum Stop implements Command {
    INSTANCE
  }

  record JournalLoaded(JournalState state) implements Command {}

  record Recorded(Ack ack) implements Command {}

  record FromWorker(WorkerReply reply) implements Command {}

  record WorkersListed(Receptionist.Listing listing) implements Command {}

  record Loaded(PreparedJob job, String canary, String error) implements Command {}

  record Evaluated(EpochReport report, String error) implements Command {}

  enum RecruitTimeout implements Command {
    INSTANCE
  }

  enum FlushTick implements Command {
    INSTANCE
  }

  /** A checkpoint write finished: stored ({@code error} null) or not. */
  record CheckpointWritten(CheckpointCommitted ref, long nanos, String error) implements Command {}

  /** The restore's outcome ({@code error} null: it ran). */
  record Restored(CheckpointIo.Restore restore, String error) implements Command {}

  /** An import's checkpoint checked against this cluster's data and kernel, and stored. */
  record ImportChecked(CheckpointIo.Imported imported, int workers, String error)
      implements Command {}

  /** Incremental mode: these rounds' gradients are in the log; their rounds may be journaled. */
  record GradientsLogged(List<RoundCommitted> batch, String error) implements Command {}

  record ReachabilityChanged(ClusterEvent.ReachabilityEvent event) implements Command {}

  record MemberLeaving(ClusterEvent.MemberLeft event) implements Command {}

  record MemberGone(ClusterEvent.MemberRemoved event) implements Command {}

  record MemberDown(ClusterEvent.MemberDowned event) implements Command {}

  /**
   * The observer of data-plane view {@code view} has round {@code round}'s sum, or failed with
   * {@code error} pointing at the view's worker {@code blamed} (-1: none).
   */
  record PlaneSummed(long view, long round, GradientSum sum, String error, int blamed)
      implements Command {}

  record RoundDeadline(long round, int attempt) implements Command {
    static final Object KEY = "round-deadline";
  }

  /** Registers the entity type; {@code role} is the cluster role that hosts coordinators. */
  public static void init(ActorSystem<?> system, String role) {
    ClusterSharding.get(system)
        .init(
            Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard()))
                .withRole(role)
                .withStopMessage(Stop.INSTANCE));
  }

  /**
   * The coordinator of job {@code jobId}. On start it reads the job's journal: a job that was
   * submitted but has not finished is taken over at once (a new epoch) and continues, so a
   * coordinator restarted by Cluster Sharding on another node needs nobody to message it. {@code
   * shard} (null outside sharding) is where a finished job's coordinator passivates.
   */
  public static Behavior<Command> create(
      String jobId, ActorRef<ClusterSharding.ShardCommand> shard) {
    return create(
        jobId,
        shard,
        config ->
            new CheckpointStore(
                DatabaseSettings.from(config),
                CoordinatorSettings.from(config).checkpointDirectory()));
  }

  /**
   * As {@link #create(String, ActorRef)}, with the checkpoints in the repository that {@code
   * repositories} opens from the node's config (on first use).
   */
  public static Behavior<Command> create(
      String jobId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Function<Config, CheckpointRepository> repositories) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    Behaviors.withStash(
                        10_000,
                        stash -> {
                          Config config = ctx.getSystem().settings().config();
                          ActorRef<JobJournal.Command> journal =
                              ctx.spawn(JobJournal.create(jobId, config), "journal");
                          ctx.setLoggerName(JobCoordinator.class);
                          CoordinatorContext c =
                              new CoordinatorContext(
                                  ctx,
                                  timers,
                                  jobId,
                                  journal,
                                  shard,
                                  new CheckpointIo(jobId, () -> repositories.apply(config)));
                          journal.tell(
                              new JobJournal.GetState(
                                  ctx.messageAdapter(JournalState.class, JournalLoaded::new)));
                          return Behaviors.<Command>receive(Command.class)
                              .onMessage(
                                  JournalLoaded.class,
                                  loaded ->
                                      stash.unstashAll(incarnation(c, loaded.state(), false, null)))
                              .onAnyMessage(
                                  m -> {
                                    stash.stash(m);
                                    return Behaviors.same();
                                  })
                              .build();
                        })));
  }

  /**
   * The behavior for the job as its journal {@code recorded} it: ended (done, failed, paused),
   * unknown here, or submitted and unfinished, which this new incarnation takes over (a new epoch;
   * {@code resuming}: after a resume or an import, which is not a recovery; {@code checked}: the
   * job an import prepared, or null).
   */
  static Behavior<Command> incarnation(
      CoordinatorContext c, JournalState recorded, boolean resuming, PreparedJob checked) {
    if (recorded.result() != null || recorded.failure() != null || recorded.paused()) {
      return Ended.fromJournal(c, recorded);
    }
    if (!recorded.submitted()) {
      c.passivateWhenIdle(); // nothing to run unless a Submit comes
      return new Idle(c);
    }
    return Starting.takeOver(c, recorded, resuming, checked);
  }
}
