package dev.anvil.coordinator;

import dev.anvil.coordinator.JobJournal.Ack;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JobProtocol.Degraded;
import dev.anvil.coordinator.JobProtocol.Exported;
import dev.anvil.coordinator.JobProtocol.Failed;
import dev.anvil.coordinator.JobProtocol.Finished;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Paused;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.coordinator.JobProtocol.Rejected;
import dev.anvil.coordinator.JobProtocol.Submit;
import dev.anvil.coordinator.JobProtocol.Watch;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.checkpoint.CorruptCheckpointException;
import dev.anvil.core.fault.FaultHooks;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.protocol.TrainingProtocol.ParamsMissing;
import dev.anvil.core.protocol.TrainingProtocol.PrepareFailed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.protocol.TrainingProtocol.WorkerReply;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.core.train.Canary;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ParameterUpdate;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingState;
import dev.anvil.core.wire.AnvilSerializable;
import dev.anvil.persistence.CheckpointRepository;
import dev.anvil.persistence.CheckpointStore;
import dev.anvil.persistence.DatabaseSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The coordinator of one job: a Cluster Sharding entity that drives the rounds (DESIGN.md, "The
 * round protocol") and leaves recording to its {@link JobJournal} child. It is a thin actor: the
 * round bookkeeping is {@link RoundState}, the assignment is {@link Assignment}, the arithmetic
 * is core's {@link ParameterUpdate} (the same as the reference trainer's).
 *
 * <p>A round's update is applied as soon as the round is complete, and the next round is sent at
 * once; the round is reported committed only when the journal has acknowledged it.
 */
public final class JobCoordinator extends AbstractBehavior<JobCoordinator.Command> {
  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "anvil-job");

  /** Everything a coordinator accepts; the public ones are in {@link JobProtocol}. */
  public interface Command extends AnvilSerializable {}

  private record JournalLoaded(JobJournal.State state) implements Command {}

  private record Recorded(Ack ack) implements Command {}

  private record FromWorker(WorkerReply reply) implements Command {}

  private record WorkersListed(Receptionist.Listing listing) implements Command {}

  private record Loaded(PreparedJob job, String canary, String error) implements Command {}

  private record Evaluated(dev.anvil.core.train.EpochReport report, String error)
      implements Command {}

  private enum RecruitTimeout implements Command { INSTANCE }

  private enum FlushTick implements Command { INSTANCE }

  /** A journal command of this kind was not acknowledged in time: send it again. */
  private record JournalTimeout(JobJournal.Recorded what) implements Command {}

  private enum PassivateIdle implements Command { INSTANCE }

  /** A checkpoint write finished: stored ({@code error} null) or not. */
  private record CheckpointWritten(CheckpointCommitted ref, long nanos, String error)
      implements Command {}

  /** The newest checkpoint that verified (null: none did), and why newer ones were skipped. */
  private record Restored(Checkpoint checkpoint, List<CheckpointStore.RoundGradient> gradients,
      List<String> skipped, String error) implements Command {}

  /** An import's checkpoint checked against this cluster's data and kernel, and stored. */
  private record ImportChecked(Checkpoint checkpoint, CheckpointCommitted ref, int workers,
      PreparedJob prepared, String error) implements Command {}

  /** The state of the parameters at a round boundary, waiting to be written as a checkpoint. */
  private record Captured(TrainingState state, double loss, double epochLossSum,
      long epochRounds) {}

  /** A recovery that completes when round {@code round} is durable. */
  private record PendingRecovery(Recovery recovery, long round) {}

  /** Sharding's stop message: a graceful hand-off of the job to another node. */
  public enum Stop implements Command { INSTANCE }

  private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event) implements Command {}

  private record MemberLeaving(ClusterEvent.MemberLeft event) implements Command {}

  private record MemberGone(ClusterEvent.MemberRemoved event) implements Command {}

  private record MemberDown(ClusterEvent.MemberDowned event) implements Command {}

  private record RoundDeadline(long round, int attempt) implements Command {
    static final Object KEY = "round-deadline";
  }

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(JobCoordinator.class);

  /** Incremental mode: most bytes of gradients held in memory, and written in one batch. */
  private static final long GRADIENT_BYTES_AHEAD = 64L << 20;
  private static final long GRADIENT_BYTES_PER_WRITE = 16L << 20;

  /** Incremental mode: these rounds' gradients are in the log; their rounds may be journaled. */
  private record GradientsLogged(List<RoundCommitted> batch, String error) implements Command {}

  /** Registers the entity type; {@code role} is the cluster role that hosts coordinators. */
  public static void init(org.apache.pekko.actor.typed.ActorSystem<?> system, String role) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY,
        ctx -> create(ctx.getEntityId(), ctx.getShard())).withRole(role)
        .withStopMessage(Stop.INSTANCE));
  }

  /**
   * The coordinator of job {@code jobId}. On start it reads the job's journal: a job that was
   * submitted but has not finished is taken over at once (a new epoch) and continues, so a
   * coordinator restarted by Cluster Sharding on another node needs nobody to message it.
   * {@code shard} (null outside sharding) is where a finished job's coordinator passivates.
   */
  public static Behavior<Command> create(String jobId,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    return create(jobId, shard, config -> new CheckpointStore(DatabaseSettings.from(config),
        CoordinatorSettings.from(config).checkpointDirectory()));
  }

  /**
   * As {@link #create(String, ActorRef)}, with the checkpoints in the repository that
   * {@code repositories} opens from the node's config (on first use).
   */
  public static Behavior<Command> create(String jobId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      java.util.function.Function<com.typesafe.config.Config, CheckpointRepository> repositories) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        Behaviors.withStash(10_000, stash -> {
          ActorRef<JobJournal.Command> journal = ctx.spawn(JobJournal.create(jobId,
              JdbcEventDeleter.from(ctx.getSystem().settings().config())), "journal");
          journal.tell(new JobJournal.GetState(ctx.messageAdapter(JobJournal.State.class,
              JournalLoaded::new)));
          return Behaviors.<Command>receive(Command.class)
              .onMessage(JournalLoaded.class, loaded -> stash.unstashAll(
                  new JobCoordinator(ctx, timers, jobId, journal, shard, repositories,
                      loaded.state())))
              .onAnyMessage(m -> {
                stash.stash(m);
                return Behaviors.same();
              })
              .build();
        })));
  }

  private final TimerScheduler<Command> timers;
  private final String jobId;
  private final ActorRef<JobJournal.Command> journal;
  private final ActorRef<WorkerReply> replies;
  private final ActorRef<Ack> acks;
  private final Executor blocking;
  private final CoordinatorSettings settings;
  /** What this node accepts in a job: every spec it reads came from elsewhere. */
  private final SpecRules specRules;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Set<ActorRef<JobUpdate>> watchers = new HashSet<>();
  /** A resumed (or imported) job: its take-over is not a recovery. */
  private final boolean resuming;
  private final java.util.function.Function<com.typesafe.config.Config, CheckpointRepository>
      repositories;
  private CheckpointRepository store;
  /** Evaluations not back yet, by round: a checkpoint waits for those at or before its round. */
  private final java.util.TreeSet<Long> evaluating = new java.util.TreeSet<>();
  private Captured captured;
  private boolean checkpointWriting;
  /** Checkpoints stored but not yet journaled (journaled once their round is durable). */
  private final List<CheckpointCommitted> written = new ArrayList<>();
  private CheckpointCommitted journalingCheckpoint;
  /** The journaling checkpoint went with the round batch in flight. */
  private boolean checkpointWithRounds;
  /** The journaled checkpoints still kept, oldest first. */
  private final List<CheckpointCommitted> keptCheckpoints = new ArrayList<>();
  private boolean restoring;
  /** The round the newest restored checkpoint holds (0: none). */
  private long restoredFrom;
  private boolean replayFinished;
  /** Loss of the newest computed round. */
  private double lastLoss = Double.NaN;
  private boolean pauseRequested;
  /** Incremental mode: gradients of rounds computed and not yet in the gradient log. */
  private final List<CheckpointStore.RoundGradient> unloggedGradients = new ArrayList<>();
  /** Rounds restored by replaying logged gradients (no recomputation). */
  private long replayedFromLog;
  private String cancelReason;
  /** The newest command of each kind sent to the journal, for sending again. */
  private final Map<JobJournal.Recorded, JobJournal.Command> sent =
      new java.util.EnumMap<>(JobJournal.Recorded.class);
  private long pauseAt;
  /** No round is dispatched: too many are waiting for the journal. */
  private boolean stalled;
  /** The journal is not answering (reported to watchers once per outage). */
  private boolean degraded;
  private long degradedSinceMillis;

  /** This incarnation's epoch: 0 until the journal has recorded it. */
  private long epoch;
  /** Rounds committed by earlier incarnations, recomputed (not recorded again) by this one. */
  private long replayUntil;
  private long incarnationStartMillis;
  /** When the job's first coordinator started (the journal's), or this one for a new job. */
  private long jobStartMillis;
  /** When the newest round was committed (the time its journal event holds). */
  private long lastCommittedMillis;
  /** When the journal last acknowledged rounds. */
  private long lastRoundsAckMillis;
  /** When each worker (by name) was last heard from: its newest result or Prepared. */
  private final Map<String, Long> lastHeard = new HashMap<>();
  /** The workers by node as last logged (placementChanged). */
  private String loggedPlacement = "";
  /** When this incarnation dispatched its first round (wall clock). */
  private long resumedMillis;
  /** Recoveries waiting for the first durable round after them. */
  private final List<PendingRecovery> pendingRecoveries = new ArrayList<>();
  /** Recoveries complete (earlier incarnations' from the journal, then this one's). */
  private final List<Recovery> recoveries = new ArrayList<>();
  /** Recoveries sent to the journal and not acknowledged yet. */
  private final List<Recovery> unackedRecoveries = new ArrayList<>();
  private long lateResults;
  private final JobMetrics metrics;
  /** Results rejected as bad (non-finite, wrong length), in all rounds and in this one. */
  private long rejectedResults;
  private int rejectedThisRound;
  /** Workers being prepared to join the running job, with their node's incarnation. */
  private final Map<ActorRef<WorkerCommand>, UniqueAddress> joining = new HashMap<>();
  /** Node incarnations unreachable or leaving: their workers are not admitted again. */
  private final LostNodes lostNodes = new LostNodes();
  /** Who was sent what this round: results are taken only from them. */
  private final Dispatches dispatches = new Dispatches();
  /** Results of the current round from a worker not sent that work (dropped). */
  private long undispatched;
  /** The node incarnation of each worker recruited or admitted (not of a later one there). */
  private final Map<ActorRef<WorkerCommand>, UniqueAddress> nodeOf = new HashMap<>();

  private JobJournal.State recorded;
  private Phase phase = Phase.IDLE;
  private JobSpec spec;
  private int wantedWorkers;
  private int recruitsAvailable;
  private PreparedJob job;
  /** Prepared by an import's check, used by the load that follows it (then null). */
  private PreparedJob importedJob;
  private String canary;
  private ParameterUpdate update;
  private TrainingState state;
  private RoundState round;
  private Assignment assignment;
  private final Map<ActorRef<WorkerCommand>, Prepared> prepared = new LinkedHashMap<>();
  private List<ActorRef<WorkerCommand>> recruits = List.of();
  /** The recruits whose node has stayed reachable; rounds are assigned among them. */
  private List<ActorRef<WorkerCommand>> live = List.of();
  private long redispatchedNodes;
  /** Workers that missed a deadline (or sent a bad result), with the round; on probation. */
  private final Map<ActorRef<WorkerCommand>, Long> suspects = new HashMap<>();
  /** The workers the current assignment is over. */
  private List<ActorRef<WorkerCommand>> assigned = List.of();
  /** Exponentially weighted mean of recent round times; 0 until rounds were seen. */
  private double typicalRoundNanos;
  private final List<RoundCommitted> unrecorded = new ArrayList<>();
  private boolean writing;
  private long durableRound;
  private long trainNanos;
  private long roundStartNanos;
  private double epochLoss;
  private long epochRounds;
  private final List<dev.anvil.core.train.EpochReport> history = new ArrayList<>();
  private int pendingEvaluations;
  private String resultJson;
  private String failure;
  private final RoundTimeSplit split = new RoundTimeSplit();
  private long slowestComputeNanos;
  private long slowestArrivalNanos;
  private long journalSentNanos;
  private boolean flushScheduled;

  /** Training time (ns) when each round not yet durable was computed, for progress reports. */
  private final java.util.TreeMap<Long, Long> trainNanosAt = new java.util.TreeMap<>();

  private enum Phase {
    IDLE, IMPORTING, LOADING, RECRUITING, PREPARING, TRAINING, FINISHING, PAUSING, PAUSED,
    RESUMING, DONE, FAILED
  }

  private JobCoordinator(ActorContext<Command> context, TimerScheduler<Command> timers,
      String jobId, ActorRef<JobJournal.Command> journal,
      ActorRef<ClusterSharding.ShardCommand> shard,
      java.util.function.Function<com.typesafe.config.Config, CheckpointRepository> repositories,
      JobJournal.State recorded) {
    this(context, timers, jobId, journal, shard, repositories, recorded, Set.of(), false);
  }

  private JobCoordinator(ActorContext<Command> context, TimerScheduler<Command> timers,
      String jobId, ActorRef<JobJournal.Command> journal,
      ActorRef<ClusterSharding.ShardCommand> shard,
      java.util.function.Function<com.typesafe.config.Config, CheckpointRepository> repositories,
      JobJournal.State recorded, Set<ActorRef<JobUpdate>> watchers, boolean resuming) {
    super(context);
    this.repositories = repositories;
    this.resuming = resuming;
    this.watchers.addAll(watchers);
    context.setLoggerName(JobCoordinator.class);
    this.timers = timers;
    this.jobId = jobId;
    this.journal = journal;
    this.recorded = recorded;
    this.replies = context.messageAdapter(WorkerReply.class, FromWorker::new);
    this.acks = context.messageAdapter(Ack.class, Recorded::new);
    this.blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.settings = CoordinatorSettings.from(context.getSystem().settings().config());
    this.specRules = SpecRules.from(context.getSystem().settings().config());
    this.metrics = JobMetrics.get(context.getSystem());
    this.shard = shard;
    recoveries.addAll(recorded.recoveries());
    lostNodes.replay(recorded.recoveries());
    List<CheckpointCommitted> refs = recorded.checkpoints();
    refs.subList(Math.max(0, refs.size() - settings.keepCheckpoints()), refs.size())
        .forEach(keptCheckpoints::add);
    if (recorded.result() != null) {
      phase = Phase.DONE;
      resultJson = recorded.result();
      passivateWhenIdle();
    } else if (recorded.failure() != null) {
      phase = Phase.FAILED;
      failure = recorded.failure();
      passivateWhenIdle();
    } else if (recorded.paused()) {
      phase = Phase.PAUSED;
      passivateWhenIdle();
    } else if (recorded.submitted()) {
      takeOver();
    } else {
      passivateWhenIdle();  // nothing to run unless a Submit comes
    }
  }

  /**
   * A new incarnation of an unfinished job: records the next epoch, loads the job from its
   * journaled spec and recomputes the committed rounds (same bits, not recorded again) before
   * it commits new ones. The first round after the replay completes a coordinator-restart
   * recovery.
   */
  private void takeOver() {
    try {
      spec = JobSpecParser.parseUntrusted(recorded.spec(), "job " + jobId, specRules);
    } catch (JobSpecException e) {
      fail("the journaled spec no longer parses: " + e.getMessage());
      return;
    }
    wantedWorkers = recorded.workers();
    replayUntil = recorded.lastRound();
    incarnationStartMillis = System.currentTimeMillis();
    lastCommittedMillis = recorded.lastRoundMillis();
    CheckpointCommitted newest = recorded.newestCheckpoint();
    if (resuming) {
      getContext().getLog().info("job {}: resuming from the checkpoint of round {}", jobId,
          newest == null ? 0 : newest.round());
    } else {
      getContext().getLog().info("job {}: taking over after epoch {} with {} rounds committed;"
          + " continuing from {}", jobId, recorded.epoch(), replayUntil, newest == null
          ? "round 0 (no checkpoint)" : "the checkpoint of round " + newest.round());
    }
    startEpochAndLoad();
  }

  private Behavior<Command> onGetPlacement(JobProtocol.GetPlacement g) {
    g.replyTo().tell(placement());
    return this;
  }

  /** Where the job runs now: this node, and the workers taking part by node incarnation. */
  private JobProtocol.Placement placement() {
    List<ActorRef<WorkerCommand>> taking = phase == Phase.TRAINING ? live
        : phase == Phase.PREPARING ? recruits : List.of();
    Map<UniqueAddress, Integer> byNode = new java.util.TreeMap<>(
        java.util.Comparator.comparing((UniqueAddress u) -> hostAndPort(u.address()))
            .thenComparingLong(UniqueAddress::longUid));
    for (ActorRef<WorkerCommand> w : taking) {
      UniqueAddress node = incarnationOf(w);
      if (node != null) {
        byNode.merge(node, 1, Integer::sum);
      }
    }
    String[] nodes = new String[byNode.size()];
    long[] uids = new long[byNode.size()];
    int[] counts = new int[byNode.size()];
    int i = 0;
    for (Map.Entry<UniqueAddress, Integer> e : byNode.entrySet()) {
      nodes[i] = hostAndPort(e.getKey().address());
      uids[i] = e.getKey().longUid();
      counts[i++] = e.getValue();
    }
    UniqueAddress self = Cluster.get(getContext().getSystem()).selfMember().uniqueAddress();
    return new JobProtocol.Placement(jobId, phase.name().toLowerCase(java.util.Locale.ROOT),
        durableRound, hostAndPort(self.address()), self.longUid(), nodes, uids, counts);
  }

  /**
   * The job's workers changed ({@code why}): publishes their number and logs where they are,
   * when that differs from the last time.
   */
  private void placementChanged(String why) {
    JobProtocol.Placement p = placement();
    StringBuilder workers = new StringBuilder();
    for (int i = 0; i < p.nodes().length; i++) {
      workers.append(i == 0 ? "" : ", ").append(p.nodes()[i]).append(" (uid ")
          .append(p.nodeUids()[i]).append(") x").append(p.workers()[i]);
    }
    String now = workers.toString();
    metrics.jobWorkers(jobId, java.util.Arrays.stream(p.workers()).sum());
    if (!now.equals(loggedPlacement)) {
      loggedPlacement = now;
      getContext().getLog().info("job {}: {}; coordinator on {}, workers on {}", jobId, why,
          p.coordinator(), now.isEmpty() ? "no node" : now);
    }
  }

  /** When the newest of {@code workers} was last heard from; 0 if none ever was. */
  private long lastHeardFrom(List<String> workers) {
    return workers.stream().mapToLong(w -> lastHeard.getOrDefault(w, 0L)).max().orElse(0);
  }

  /** Sends {@code command} to the journal; unacknowledged, it is sent again (onJournalTimeout). */
  private void toJournal(JobJournal.Command command, JobJournal.Recorded kind) {
    sent.put(kind, command);
    journal.tell(command);
    timers.startSingleTimer(new JournalTimeout(kind), settings.journalAckTimeout());
  }

  private void startEpoch() {
    toJournal(new JobJournal.StartEpoch(getContext().getSystem().address().hostPort(), acks),
        JobJournal.Recorded.STARTED);
  }

  private void startEpochAndLoad() {
    startEpoch();
    phase = Phase.LOADING;
    jobStartMillis = recorded.startedMillis() > 0 ? recorded.startedMillis()
        : System.currentTimeMillis();
    JobSpec toLoad = spec;
    PreparedJob checked = importedJob != null && importedJob.spec().equals(toLoad)
        ? importedJob : null;
    importedJob = null;
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      PreparedJob p = checked != null ? checked : PreparedJob.prepare(toLoad, "job " + jobId,
          specRules);
      return new Loaded(p, Canary.of(p), null);
    }, blocking), (loaded, error) -> loaded != null ? loaded
        : new Loaded(null, null, rootMessage(error)));
  }

  private void passivateWhenIdle() {
    if (shard != null) {
      timers.startSingleTimer(PassivateIdle.INSTANCE, settings.passivateFinishedAfter());
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Watch.class, this::onWatch)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(WorkersListed.class, this::onWorkers)
        .onMessage(RecruitTimeout.class, t -> fail("needs " + wantedWorkers
            + " workers but found " + recruitsAvailable + " within "
            + settings.recruitTimeout().toSeconds() + " s"))
        .onMessage(FromWorker.class, this::onWorkerReply)
        .onMessage(Recorded.class, this::onRecorded)
        .onMessage(Evaluated.class, this::onEvaluated)
        .onMessage(ReachabilityChanged.class, this::onReachability)
        .onMessage(MemberLeaving.class, this::onMemberLeaving)
        .onMessage(MemberGone.class, this::onMemberRemoved)
        .onMessage(MemberDown.class, this::onMemberDowned)
        .onMessage(RoundDeadline.class, this::onDeadline)
        .onMessage(FlushTick.class, t -> {
          flushScheduled = false;
          flushRecords();
          return this;
        })
        .onMessage(JournalTimeout.class, this::onJournalTimeout)
        .onMessage(PassivateIdle.class, t -> {
          if (phase == Phase.DONE || phase == Phase.FAILED || phase == Phase.IDLE) {
            shard.tell(new ClusterSharding.Passivate<>(getContext().getSelf()));
          }
          return this;
        })
        .onMessage(Stop.class, t -> onStop())
        .onMessage(JobProtocol.Pause.class, this::onPause)
        .onMessage(JobProtocol.Resume.class, this::onResume)
        .onMessage(JobProtocol.Cancel.class, this::onCancel)
        .onMessage(JobProtocol.Import.class, this::onImport)
        .onMessage(JobProtocol.Export.class, this::onExport)
        .onMessage(JobProtocol.GetPlacement.class, this::onGetPlacement)
        .onMessage(ImportChecked.class, this::onImportChecked)
        .onMessage(JournalLoaded.class, this::onJournalReloaded)
        .onMessage(CheckpointWritten.class, this::onCheckpointWritten)
        .onMessage(Restored.class, this::onRestored)
        .onMessage(GradientsLogged.class, this::onGradientsLogged)
        .onSignal(PostStop.class, signal -> {
          if (store != null) {
            store.close();
          }
          return this;
        })
        .build();
  }

  private Behavior<Command> onSubmit(Submit s) {
    watchers.add(s.replyTo());
    switch (phase) {
      case DONE:
        s.replyTo().tell(new Finished(jobId, resultJson));
        return this;
      case FAILED:
        s.replyTo().tell(new Failed(jobId, failure));
        return this;
      case IDLE:
        break;
      default:
        return this;  // already running: the submitter is now a watcher
    }
    try {
      spec = JobSpecParser.parseUntrusted(s.spec(), "job " + jobId, specRules);
    } catch (JobSpecException e) {
      watchers.remove(s.replyTo());
      s.replyTo().tell(new Rejected(jobId, e.getMessage()));
      return this;
    }
    if (s.workers() <= 0) {
      watchers.remove(s.replyTo());
      s.replyTo().tell(new Rejected(jobId, "workers = " + s.workers()
          + ": must be a whole number > 0"));
      return this;
    }
    wantedWorkers = s.workers();
    recorded = new JobJournal.State(s.spec(), s.workers(), 0, 0, Double.NaN, 0, List.of(),
        List.of(), false, 0, null, null, 0);
    journal.tell(new JobJournal.RecordSubmitted(s.spec(), s.workers(), acks));
    startEpochAndLoad();
    return this;
  }

  private Behavior<Command> onWatch(Watch w) {
    boolean fresh = watchers.add(w.replyTo());
    if (fresh && phase == Phase.TRAINING) {
      w.replyTo().tell(accepted());
    }
    if (phase == Phase.DONE) {
      w.replyTo().tell(new Finished(jobId, resultJson));
    } else if (phase == Phase.PAUSED && fresh) {
      w.replyTo().tell(new Paused(jobId, recorded.lastRound()));
    } else if (phase == Phase.FAILED) {
      w.replyTo().tell(new Failed(jobId, failure));
    }
    return this;
  }

  private Behavior<Command> onLoaded(Loaded l) {
    if (l.error() != null) {
      return fail("cannot prepare the job: " + l.error());
    }
    long bytes = 4L * l.job().model().parameterCount() + SpecRules.FRAME_OVERHEAD;
    long frame = getContext().getSystem().settings().config()
        .getBytes("pekko.remote.artery.advanced.maximum-frame-size");
    if (bytes > frame) {
      return fail("the model has " + l.job().model().parameterCount() + " parameters ("
          + bytes + " bytes a message), more than"
          + " pekko.remote.artery.advanced.maximum-frame-size = " + frame + " bytes allows;"
          + " raise it on every node");
    }
    job = l.job();
    canary = l.canary();
    update = job.newParameterUpdate();
    state = job.initialState();
    if (replayUntil > job.totalRounds()) {
      return fail("the journal records " + replayUntil + " rounds but the job has only "
          + job.totalRounds());
    }
    if (!recorded.checkpoints().isEmpty() || (incremental() && replayUntil > 0)) {
      restore();
    }
    maybeRecruit();
    return this;
  }

  private CheckpointRepository store() {
    if (store == null) {
      store = repositories.apply(getContext().getSystem().settings().config());
    }
    return store;
  }

  /**
   * Loads the newest journaled checkpoint whose bytes verify (the journaled SHA-256, then the
   * format's own trailer and the job it belongs to); a missing or corrupt one is skipped, with
   * a warning, for the one before. With none left, the job recomputes from round 0.
   */
  private void restore() {
    restoring = true;
    List<CheckpointCommitted> refs = newestFirst();
    CheckpointRepository from = store();
    String id = jobId;
    String fingerprint = job.dataFingerprint();
    boolean logged = incremental();
    long until = replayUntil;
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      List<String> skipped = new ArrayList<>();
      Verified v = newestVerified(from, id, refs, c -> c.dataFingerprint().equals(fingerprint)
          ? null : "made with data fingerprint " + c.dataFingerprint() + ", not this data's "
          + fingerprint, skipped);
      long after = v == null ? 0 : v.checkpoint().round();
      return new Restored(v == null ? null : v.checkpoint(), logged
          ? contiguous(from.readGradients(id, after + 1, until), after) : List.of(), skipped,
          null);
    }, blocking), (restored, error) -> restored != null ? restored
        : new Restored(null, List.of(), List.of(), rootMessage(error)));
  }

  /** The gradients that continue round {@code after} without a gap (the rest is recomputed). */
  private static List<CheckpointStore.RoundGradient> contiguous(
      List<CheckpointStore.RoundGradient> gradients, long after) {
    List<CheckpointStore.RoundGradient> out = new ArrayList<>();
    for (CheckpointStore.RoundGradient g : gradients) {
      if (g.round() != after + out.size() + 1) {
        break;
      }
      out.add(g);
    }
    return out;
  }

  /** The kept checkpoints, newest first. */
  private List<CheckpointCommitted> newestFirst() {
    List<CheckpointCommitted> refs = new ArrayList<>(keptCheckpoints);
    java.util.Collections.reverse(refs);
    return refs;
  }

  /** The round of the newest kept checkpoint (-1: none). */
  private long newestKeptRound() {
    return keptCheckpoints.isEmpty() ? -1 : keptCheckpoints.get(keptCheckpoints.size() - 1)
        .round();
  }

  /** A stored checkpoint that matched its journaled checksum and decoded. */
  private record Verified(CheckpointCommitted ref, byte[] bytes, Checkpoint checkpoint) {}

  /**
   * The first of {@code refs} whose bytes match the journaled checksum, decode, and have no
   * {@code problem} (null: none); each one passed over is described in {@code skipped}. Null
   * when none qualifies. Blocking: call off the actor's thread.
   */
  private static Verified newestVerified(CheckpointRepository store, String jobId,
      List<CheckpointCommitted> refs, java.util.function.Function<Checkpoint, String> problem,
      List<String> skipped) {
    for (CheckpointCommitted ref : refs) {
      String why;
      try {
        byte[] bytes = store.read(jobId, ref.round());
        if (bytes == null) {
          throw new CorruptCheckpointException("missing from " + ref.location());
        }
        String sum = CheckpointFormat.checksum(bytes);
        if (!sum.equals(ref.checksum())) {
          throw new CorruptCheckpointException("its SHA-256 is " + sum + " but the journal"
              + " recorded " + ref.checksum() + " (" + bytes.length + " bytes, " + ref.bytes()
              + " recorded)");
        }
        Checkpoint c = CheckpointFormat.decode(bytes);
        why = problem.apply(c);
        if (why == null) {
          return new Verified(ref, bytes, c);
        }
      } catch (CorruptCheckpointException | dev.anvil.persistence.DatabaseException e) {
        why = e.getMessage();
      }
      skipped.add("round " + ref.round() + ": " + why);
    }
    return null;
  }

  private Behavior<Command> onRestored(Restored r) {
    restoring = false;
    if (r.error() != null) {
      return fail("cannot read the checkpoints: " + r.error());
    }
    for (String skipped : r.skipped()) {
      getContext().getLog().warn("job {}: checkpoint skipped, {}", jobId, skipped);
    }
    if (job == null) {
      return this;
    }
    Checkpoint c = r.checkpoint();
    if (c != null) {
      state = c.state();
      lastLoss = c.loss();
      history.clear();
      history.addAll(c.history());
      epochLoss = c.epochLossSum();
      epochRounds = c.epochRounds();
      restoredFrom = c.round();
      getContext().getLog().info("job {}: restored the checkpoint of round {}; {} rounds to"
          + " recompute", jobId, c.round(), replayUntil - c.round());
    } else if (!recorded.checkpoints().isEmpty()) {
      getContext().getLog().warn("job {}: no checkpoint verifies; restoring all {} committed"
          + " rounds from round 0", jobId, replayUntil);
    }
    if (!r.gradients().isEmpty()) {
      resumedMillis = System.currentTimeMillis();
      for (CheckpointStore.RoundGradient g : r.gradients()) {
        double loss = g.lossSum() / g.samples();
        try {
          state = update.apply(state, new GradientSum(g.gradient(), g.lossSum(), g.samples()));
        } catch (dev.anvil.core.train.DivergedException e) {
          return fail("replaying the gradient log: " + e.getMessage());
        }
        lastLoss = loss;
        epochLoss += loss;
        epochRounds++;
        long done = state.round();
        if (done % job.roundsPerEpoch() == 0 || done == job.totalRounds()) {
          evaluate(done);
        }
      }
      replayedFromLog = r.gradients().size();
      getContext().getLog().info("job {}: replayed the logged gradients of rounds {}..{} in {}"
          + " ms (no recomputation)", jobId, restoredFrom + 1, state.round(),
          System.currentTimeMillis() - resumedMillis);
      if (state.round() == replayUntil && !replayed(lastLoss)) {
        return this;
      }
    }
    maybeRecruit();
    return this;
  }

  /** Recruits workers once the job is loaded and this incarnation's epoch is recorded. */
  private void maybeRecruit() {
    if (phase != Phase.LOADING || job == null || epoch == 0 || restoring) {
      return;
    }
    phase = Phase.RECRUITING;
    getContext().getSystem().receptionist().tell(Receptionist.subscribe(
        TrainingProtocol.WORKERS, getContext().messageAdapter(Receptionist.Listing.class,
            WorkersListed::new)));
    timers.startSingleTimer(RecruitTimeout.INSTANCE, settings.recruitTimeout());
  }

  /**
   * A new job starts once {@code workers} workers are listed. A job taken over from an earlier
   * incarnation, or one that lost workers, goes on with the workers there are: up to
   * {@code workers} of them, joiners included from the round after they are prepared.
   */
  private Behavior<Command> onWorkers(WorkersListed l) {
    Set<ActorRef<WorkerCommand>> listed =
        l.listing().getServiceInstances(TrainingProtocol.WORKERS);
    recruitsAvailable = listed.size();
    if (phase == Phase.TRAINING) {
      admitJoiners(listed);
      return this;
    }
    int needed = replayUntil > 0 ? 1 : wantedWorkers;
    if (phase != Phase.RECRUITING || listed.size() < needed) {
      return this;
    }
    timers.cancel(RecruitTimeout.INSTANCE);
    recruits = new ArrayList<>(Assignment.choose(listed, Math.min(wantedWorkers,
        listed.size())));
    for (ActorRef<WorkerCommand> w : recruits) {
      UniqueAddress node = incarnationOf(w);
      if (node != null) {
        nodeOf.put(w, node);
      }
    }
    phase = Phase.PREPARING;
    subscribeToMembership();
    String text = dev.anvil.core.spec.JobSpecWriter.toHocon(spec);
    for (ActorRef<WorkerCommand> w : recruits) {
      w.tell(new PrepareJob(jobId, epoch, text, replies));
    }
    return this;
  }

  /**
   * Prepares listed workers the job has room for (it lost some, or started with fewer): those on
   * a live incarnation of their node, never on one the job lost (a node started again on the
   * same host:port is a new incarnation, and its workers are admitted).
   */
  private void admitJoiners(Set<ActorRef<WorkerCommand>> listed) {
    int room = wantedWorkers - live.size() - joining.size();
    if (room <= 0) {
      return;
    }
    String text = dev.anvil.core.spec.JobSpecWriter.toHocon(spec);
    listed.stream()
        .filter(w -> !live.contains(w) && !joining.containsKey(w))
        .sorted(java.util.Comparator.comparing(w -> w.path().toString()))
        .forEach(w -> {
          UniqueAddress node = incarnationOf(w);
          if (joining.size() + live.size() >= wantedWorkers || node == null
              || !lostNodes.admissible(hostAndPort(node.address()), node.longUid())) {
            return;
          }
          joining.put(w, node);
          nodeOf.put(w, node);
          w.tell(new PrepareJob(jobId, epoch, text, replies));
        });
  }

  /**
   * The incarnation of the node {@code w} runs on, as this node's membership has it: the member
   * at its address that is not on its way out; null when there is none (not joined yet, or
   * gone).
   */
  private UniqueAddress incarnationOf(ActorRef<WorkerCommand> w) {
    UniqueAddress known = nodeOf.get(w);
    if (known != null) {
      return known;
    }
    org.apache.pekko.actor.Address a = w.path().address();
    Cluster cluster = Cluster.get(getContext().getSystem());
    if (a.hasLocalScope()) {
      return cluster.selfMember().uniqueAddress();
    }
    for (org.apache.pekko.cluster.Member m : cluster.state().getMembers()) {
      if (m.address().equals(a) && m.status() != org.apache.pekko.cluster.MemberStatus.down()
          && m.status() != org.apache.pekko.cluster.MemberStatus.removed()
          && m.status() != org.apache.pekko.cluster.MemberStatus.exiting()
          && m.status() != org.apache.pekko.cluster.MemberStatus.leaving()) {
        return m.uniqueAddress();
      }
    }
    return null;
  }

  /** Whether worker {@code w} runs on incarnation {@code node}. */
  private boolean on(ActorRef<WorkerCommand> w, UniqueAddress node) {
    UniqueAddress known = nodeOf.get(w);
    return known != null ? known.equals(node) : w.path().address().equals(node.address());
  }

  private void subscribeToMembership() {
    var subscriptions = Cluster.get(getContext().getSystem()).subscriptions();
    subscriptions.tell(Subscribe.create(getContext().messageAdapter(
        ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new),
        ClusterEvent.ReachabilityEvent.class));
    subscriptions.tell(Subscribe.create(getContext().messageAdapter(
        ClusterEvent.MemberLeft.class, MemberLeaving::new), ClusterEvent.MemberLeft.class));
    subscriptions.tell(Subscribe.create(getContext().messageAdapter(
        ClusterEvent.MemberRemoved.class, MemberGone::new), ClusterEvent.MemberRemoved.class));
    subscriptions.tell(Subscribe.create(getContext().messageAdapter(
        ClusterEvent.MemberDowned.class, MemberDown::new), ClusterEvent.MemberDowned.class));
  }

  private Behavior<Command> onWorkerReply(FromWorker f) {
    WorkerReply r = f.reply();
    if (r instanceof NodeResult n) {
      return onResult(n);
    } else if (r instanceof Prepared p) {
      return onPrepared(p);
    } else if (r instanceof PrepareFailed pf) {
      if (pf.epoch() != epoch) {
        return this;  // an answer to an earlier incarnation
      }
      if (phase == Phase.TRAINING) {
        joining.keySet().removeIf(w -> (w.path().address().hostPort() + "/"
            + w.path().name()).equals(pf.worker()));
        getContext().getLog().warn("job {}: worker {} cannot join: {}", jobId, pf.worker(),
            pf.reason());
        return this;
      }
      return fail("worker " + pf.worker() + " cannot take part: " + pf.reason());
    } else if (r instanceof ParamsMissing pm && phase == Phase.TRAINING
        && pm.round() == state.round()) {
      resend(pm.worker());
    }
    return this;
  }

  private Behavior<Command> onPrepared(Prepared p) {
    if (p.epoch() != epoch) {
      return this;
    }
    if (job == null) {
      // The job ended (cancelled, failed) while this worker prepared it: the release sent at
      // the end may have reached the worker before its preparation finished.
      p.self().tell(new ReleaseJob(jobId));
      return this;
    }
    var problem = PreparationCheck.problem(p, p.self().path().address().toString(),
        job.dataFingerprint(), canary, job.kernel().name(),
        getContext().getSystem().address().toString());
    UniqueAddress node = phase == Phase.TRAINING ? joining.remove(p.self()) : null;
    if (node != null) {
      if (problem.isPresent()) {
        getContext().getLog().warn("job {}: worker {} refused: {}", jobId, p.worker(),
            problem.get());
        p.self().tell(new ReleaseJob(jobId));
        return this;
      }
      String hostPort = hostAndPort(node.address());
      if (!lostNodes.admissible(hostPort, node.longUid())) {
        return this;  // its node was lost while the worker prepared
      }
      prepared.put(p.self(), p);
      recruits.add(p.self());
      List<ActorRef<WorkerCommand>> more = new ArrayList<>(live);
      more.add(p.self());
      live = List.copyOf(more);
      if (!noteRejoin(p, node, state.round() + 2)) {
        getContext().getLog().info("job {}: worker {} joins from round {}", jobId, p.worker(),
            state.round() + 2);
      }
      placementChanged("worker " + p.worker() + " joins from round " + (state.round() + 2));
      return this;
    }
    if (phase != Phase.PREPARING || !recruits.contains(p.self())) {
      return this;
    }
    if (problem.isPresent()) {
      return fail(problem.get());
    }
    prepared.put(p.self(), p);
    UniqueAddress recruitNode = nodeOf.get(p.self());
    if (recruitNode != null && state != null) {
      noteRejoin(p, recruitNode, state.round() + 1);
    }
    startWhenAllPrepared();
    return this;
  }

  /**
   * Records a {@code node-rejoined} recovery, completed by round {@code fromRound}, when the
   * prepared worker's node is back: an incarnation of its host:port was lost by this
   * coordinator incarnation, or this incarnation took the job over and the node's process
   * started after the previous incarnation's last commit (it was lost with it, or while the
   * job had no coordinator). Once per host:port and loss. Returns whether it did.
   */
  private boolean noteRejoin(Prepared p, UniqueAddress node, long fromRound) {
    String hostPort = hostAndPort(node.address());
    boolean tookOver = incarnationStartMillis > 0 && !resuming;
    boolean back = lostNodes.rejoined(hostPort, node.longUid())
        || tookOver && recorded.lastRoundMillis() > 0
        && p.nodeStartedMillis() > recorded.lastRoundMillis() && lostNodes.firstFrom(hostPort);
    if (!back) {
      return false;
    }
    long now = System.currentTimeMillis();
    long started = p.nodeStartedMillis() > 0 ? p.nodeStartedMillis() : now;
    pendingRecoveries.add(new PendingRecovery(new Recovery("node-rejoined", hostPort
        + " (a new incarnation, uid " + node.longUid() + ") is back in the job from round "
        + fromRound + "; its process started " + (now - started) + " ms before its worker was"
        + " admitted", 0, started, now, 0, 0, 0, 0, 0), fromRound));
    getContext().getLog().info("job {}: node {} is back (new incarnation {}): worker {} takes"
        + " part from round {}", jobId, hostPort, node.longUid(), p.worker(), fromRound);
    return true;
  }

  /** Starts training once every recruit has answered Prepared. */
  private void startWhenAllPrepared() {
    if (prepared.keySet().containsAll(recruits)) {
      assignment = Assignment.of(job.tree(), recruits);
      assigned = List.copyOf(recruits);  // recruits grows when workers join
      phase = Phase.TRAINING;
      live = new ArrayList<>(recruits);
      placementChanged("training from round " + (state.round() + 1));
      notifyWatchers(accepted());
      resumedMillis = System.currentTimeMillis();
      if (replayUntil > 0 && state.round() == replayUntil) {
        finishReplay();
      }
      if (state.round() >= job.totalRounds()) {
        phase = Phase.FINISHING;  // every round was restored: only the outcome is missing
        maybeFinish();
        return;
      }
      startRound();
    }
  }

  private void startRound() {
    round = RoundState.start(state.round(), job.spec().logicalShards());
    rejectedThisRound = 0;
    if (!suspects.isEmpty()) {
      // A suspect whose result was lost (a dropped message) would never answer again: after
      // its probation it gets work again, and sits out again if it misses again.
      suspects.values().removeIf(since -> state.round() - since >= settings.suspectProbation());
    }
    roundStartNanos = System.nanoTime();
    List<ActorRef<WorkerCommand>> active = active();
    if (!active.equals(assigned)) {
      assigned = active;
      assignment = Assignment.of(job.tree(), active);
    }
    float[] params = state.params().clone();
    dispatches.newRound(state.round());
    for (ActorRef<WorkerCommand> w : active) {
      dispatches.sent(nameOf(w), assignment.nodesOf(w));
      w.tell(new ComputeNodes(jobId, epoch, state.round(), params, assignment.nodesOf(w),
          replies));
    }
    if (typicalRoundNanos > 0) {
      timers.startSingleTimer(RoundDeadline.KEY, new RoundDeadline(state.round(), 1),
          deadline(1));
    }
  }

  /** Live workers that have not missed a deadline since their last result (all, if none). */
  private List<ActorRef<WorkerCommand>> active() {
    List<ActorRef<WorkerCommand>> a = live.stream().filter(w -> !suspects.containsKey(w))
        .toList();
    return a.isEmpty() ? live : a;
  }

  /** The deadline of a round: a multiple of the typical round time, doubled at each miss. */
  private Duration deadline(int attempt) {
    long nanos = Math.max(settings.minimumDeadline().toNanos(),
        (long) (settings.deadlineMultiplier() * typicalRoundNanos));
    return Duration.ofNanos(nanos << Math.min(attempt - 1, 10));
  }

  /**
   * Work not back by the round's deadline goes at once to workers that are answering; the late
   * workers are left out of the following rounds until a result of theirs arrives. A crashed
   * worker thus costs one deadline, not the failure detector's seconds; a slow one costs
   * duplicate work, never other bits (the first result of a shard wins).
   */
  private Behavior<Command> onDeadline(RoundDeadline d) {
    if (phase != Phase.TRAINING || d.round() != state.round() || round.complete()) {
      return this;
    }
    List<dev.anvil.core.train.TreeNode> missing = new ArrayList<>();
    List<String> late = new ArrayList<>();
    for (ActorRef<WorkerCommand> w : assigned) {
      boolean behind = false;
      for (dev.anvil.core.train.TreeNode node : assignment.nodesOf(w)) {
        if (!round.covers(node)) {
          missing.add(node);
          behind = true;
        }
      }
      if (behind && suspects.putIfAbsent(w, state.round()) == null) {
        late.add(nameOf(w));
      }
    }
    List<ActorRef<WorkerCommand>> helpers = active();
    if (!missing.isEmpty() && !helpers.equals(assigned)) {
      redispatchedNodes += missing.size();
      metrics.redispatched(missing.size());
      long now = System.currentTimeMillis();
      pendingRecoveries.add(new PendingRecovery(Recovery.seen("deadline", "round "
          + (state.round() + 1) + ": " + late + " late", lastHeardFrom(late), now,
          lastCommittedMillis, missing.size()), state.round() + 1));
      getContext().getLog().info("job {}: round {} not complete after {} ms; {} late past its"
          + " deadline; {} tree nodes re-dispatched to {} workers", jobId, state.round() + 1,
          (System.nanoTime() - roundStartNanos) / 1_000_000, late, missing.size(),
          helpers.size());
      handOut(missing, helpers);
    }
    timers.startSingleTimer(RoundDeadline.KEY, new RoundDeadline(d.round(), d.attempt() + 1),
        deadline(d.attempt() + 1));
    return this;
  }

  private void handOut(List<dev.anvil.core.train.TreeNode> nodes,
      List<ActorRef<WorkerCommand>> to) {
    Map<ActorRef<WorkerCommand>, List<dev.anvil.core.train.TreeNode>> share =
        new LinkedHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      share.computeIfAbsent(to.get(i % to.size()), k -> new ArrayList<>()).add(nodes.get(i));
    }
    float[] params = state.params().clone();
    share.forEach((w, n) -> {
      dev.anvil.core.train.TreeNode[] sent = n.toArray(new dev.anvil.core.train.TreeNode[0]);
      dispatches.sent(nameOf(w), sent);
      w.tell(new ComputeNodes(jobId, epoch, state.round(), params, sent, replies));
    });
  }

  private String nameOf(ActorRef<WorkerCommand> w) {
    Prepared p = prepared.get(w);
    return p == null ? w.path().toString() : p.worker();
  }

  /**
   * A node became unreachable: its workers are dropped from the job at once, without waiting for
   * the cluster to down the node. The shards they had not delivered in the current round go to
   * the live workers now, and later rounds are assigned among the live workers. The bits do not
   * change: only the tree fixes them, and a late result from the lost node is a duplicate.
   */
  private Behavior<Command> onReachability(ReachabilityChanged r) {
    if (r.event() instanceof ClusterEvent.ReachableMember back) {
      UniqueAddress node = back.member().uniqueAddress();
      lostNodes.back(hostAndPort(node.address()), node.longUid());
      return this;
    }
    if (!(r.event() instanceof ClusterEvent.UnreachableMember u)) {
      return this;
    }
    return lose(u.member().uniqueAddress(), "unreachable");
  }

  /**
   * Node incarnation {@code lostNode} is gone ({@code how}: unreachable, downed or removed;
   * whichever the coordinator hears first): its workers are dropped from the job at once and
   * the work they had not delivered in this round goes to the live workers.
   */
  private Behavior<Command> lose(UniqueAddress lostNode, String how) {
    if (lostNode.equals(Cluster.get(getContext().getSystem()).selfMember().uniqueAddress())) {
      // This coordinator's own node is going: sharding starts the job elsewhere, from the
      // journal. Nothing is decided or recorded here (a downed minority must not fail a job).
      return this;
    }
    org.apache.pekko.actor.Address lost = lostNode.address();
    String hostPort = hostAndPort(lost);
    boolean fresh = lostNodes.lost(hostPort, lostNode.longUid());
    joining.values().removeIf(lostNode::equals);
    if (!fresh) {
      return this;  // heard already (unreachable, then downed, then removed)
    }
    if (phase == Phase.PREPARING) {
      return dropUnprepared(lostNode);
    }
    if (phase != Phase.TRAINING) {
      return this;
    }
    List<ActorRef<WorkerCommand>> gone = live.stream()
        .filter(w -> on(w, lostNode)).toList();
    if (gone.isEmpty()) {
      return this;
    }
    List<ActorRef<WorkerCommand>> remaining = new ArrayList<>(live);
    remaining.removeAll(gone);
    if (remaining.isEmpty()) {
      return fail("every worker of the job is on unreachable nodes (last: " + lost + ")");
    }
    List<dev.anvil.core.train.TreeNode> missing = new ArrayList<>();
    for (ActorRef<WorkerCommand> w : gone) {
      for (dev.anvil.core.train.TreeNode node : assignment.nodesOf(w)) {
        if (!round.covers(node)) {
          missing.add(node);
        }
      }
    }
    live = List.copyOf(remaining);
    gone.forEach(suspects::remove);
    placementChanged("node " + hostPort + " " + how + " in round " + (state.round() + 1));
    redispatchedNodes += missing.size();
    metrics.redispatched(missing.size());
    metrics.nodeLost();
    long now = System.currentTimeMillis();
    pendingRecoveries.add(new PendingRecovery(Recovery.seen(how.equals("unreachable")
        ? "node-unreachable" : "node-downed", hostPort + " (uid " + lostNode.longUid() + ") "
        + how + " in round " + (state.round() + 1) + ", " + gone.size() + " workers",
        lastHeardFrom(gone.stream().map(this::nameOf).toList()), now, lastCommittedMillis,
        missing.size()), state.round() + 1));
    getContext().getLog().warn("job {}: node {} {} in round {}; {} workers left, {} tree"
        + " nodes of this round re-dispatched", jobId, hostPort, how, state.round() + 1,
        live.size(), missing.size());
    if (!missing.isEmpty()) {
      handOut(missing, active());
    }
    return this;
  }

  /** A recruit's node became unreachable before the job started: go on without it. */
  private Behavior<Command> dropUnprepared(UniqueAddress lost) {
    recruits.removeIf(w -> on(w, lost) && !prepared.containsKey(w));
    if (recruits.isEmpty()) {
      return fail("every recruited worker is on unreachable nodes (last: " + lost.address()
          + ")");
    }
    startWhenAllPrepared();
    return this;
  }

  /**
   * A node is leaving the cluster gracefully: its workers finish the work they have and take
   * no more; from the next round the live workers share it. Nothing is re-dispatched, since
   * their results still arrive (the deadline covers the case where they do not).
   */
  private Behavior<Command> onMemberLeaving(MemberLeaving m) {
    UniqueAddress leavingNode = m.event().member().uniqueAddress();
    org.apache.pekko.actor.Address leaving = leavingNode.address();
    if (!lostNodes.lost(hostAndPort(leaving), leavingNode.longUid())) {
      return this;
    }
    joining.values().removeIf(leavingNode::equals);
    if (phase != Phase.TRAINING) {
      return this;
    }
    List<ActorRef<WorkerCommand>> gone = live.stream()
        .filter(w -> on(w, leavingNode)).toList();
    if (gone.isEmpty() || gone.size() == live.size()) {
      return this;  // nothing of ours, or nobody to hand to: the deadline decides
    }
    List<ActorRef<WorkerCommand>> remaining = new ArrayList<>(live);
    remaining.removeAll(gone);
    live = List.copyOf(remaining);
    placementChanged("node " + hostAndPort(leaving) + " is leaving after round " + state.round());
    long now = System.currentTimeMillis();
    pendingRecoveries.add(new PendingRecovery(Recovery.seen("node-left", hostAndPort(leaving)
        + " (uid " + leavingNode.longUid() + ") after round " + state.round() + ", "
        + gone.size() + " workers", 0, now, lastCommittedMillis, 0), state.round() + 2));
    getContext().getLog().info("job {}: node {} is leaving; its {} workers finish round {} and"
        + " the {} others take over from round {}", jobId, leaving, gone.size(),
        state.round() + 1, live.size(), state.round() + 2);
    return this;
  }

  /**
   * A node incarnation left the membership for good: it can never be reachable again, so it is
   * forgotten (its host:port stays marked for a rejoin), and workers still preparing on it are
   * given up.
   */
  private Behavior<Command> onMemberRemoved(MemberGone g) {
    UniqueAddress node = g.event().member().uniqueAddress();
    Behavior<Command> next = g.event().previousStatus() == MemberStatus.exiting()
        ? this : lose(node, "removed");
    lostNodes.removed(hostAndPort(node.address()), node.longUid());
    joining.values().removeIf(node::equals);
    nodeOf.entrySet().removeIf(e -> e.getValue().equals(node) && !live.contains(e.getKey()));
    return next;
  }

  /** A member was downed (by the split-brain resolver, an operator or its launcher). */
  private Behavior<Command> onMemberDowned(MemberDown d) {
    return lose(d.event().member().uniqueAddress(), "downed");
  }

  private void resend(String worker) {
    for (Map.Entry<ActorRef<WorkerCommand>, Prepared> e : prepared.entrySet()) {
      if (e.getValue().worker().equals(worker)) {
        e.getKey().tell(new ComputeNodes(jobId, epoch, state.round(), state.params().clone(),
            assignment.nodesOf(e.getKey()), replies));
      }
    }
  }

  private Behavior<Command> onResult(NodeResult n) {
    if (phase != Phase.TRAINING || n.epoch() != epoch) {
      return this;
    }
    lastHeard.put(n.worker(), System.currentTimeMillis());
    if (n.round() == state.round() && !dispatches.expected(n.round(), n.worker(), n.node())) {
      if (undispatched++ == 0) {
        getContext().getLog().warn("job {}: round {}: dropped a result for {} from {}, which was"
            + " not sent that work (further ones are dropped silently)", jobId, n.round() + 1,
            n.node(), n.worker());
      }
      return this;
    }
    String bad = n.round() == state.round() ? ResultCheck.problem(n.grad(), n.lossSum(),
        n.samples(), job.model().parameterCount()) : null;
    if (bad != null) {
      return reject(n, bad);
    }
    RoundState.Acceptance a = round.accept(n.round(), n.node(),
        new GradientSum(n.grad(), n.lossSum(), n.samples()));
    round = a.state();
    if (a.outcome() == RoundState.Outcome.DUPLICATE || a.outcome() == RoundState.Outcome.STALE) {
      lateResults++;
      metrics.lateResult();
    }
    if (!suspects.isEmpty() && a.outcome() != RoundState.Outcome.INVALID) {
      suspects.keySet().removeIf(w -> nameOf(w).equals(n.worker()));
    }
    if (a.outcome() == RoundState.Outcome.ACCEPTED) {
      long arrival = System.nanoTime() - roundStartNanos;
      if (arrival > slowestArrivalNanos) {
        slowestArrivalNanos = arrival;
        slowestComputeNanos = n.computeNanos();
      }
    }
    if (!round.complete()) {
      return this;
    }
    long reduceStart = System.nanoTime();
    GradientSum total = round.reduce(job.tree());
    long updateStart = System.nanoTime();
    double loss = total.lossSum() / total.samples();
    if (incremental() && state.round() >= replayUntil) {
      // The step consumes the sum (it becomes the mean): keep what the log needs first.
      unloggedGradients.add(new CheckpointStore.RoundGradient(state.round() + 1,
          total.grad().clone(), total.lossSum(), total.samples()));
    }
    try {
      state = update.apply(state, total);
    } catch (dev.anvil.core.train.DivergedException e) {
      return fail(e.getMessage());
    }
    long end = System.nanoTime();
    timers.cancel(RoundDeadline.KEY);
    long wall = end - roundStartNanos;
    typicalRoundNanos = typicalRoundNanos == 0 ? wall : 0.9 * typicalRoundNanos + 0.1 * wall;
    metrics.roundComputed(wall);
    split.round(end - roundStartNanos, slowestComputeNanos,
        slowestArrivalNanos - slowestComputeNanos, updateStart - reduceStart, end - updateStart);
    slowestArrivalNanos = 0;
    slowestComputeNanos = 0;
    trainNanos += System.nanoTime() - roundStartNanos;
    lastLoss = loss;
    if (state.round() > replayUntil) {
      trainNanosAt.put(state.round(), trainNanos);
      lastCommittedMillis = System.currentTimeMillis();
      unrecorded.add(new RoundCommitted(state.round(), loss, total.samples(),
          lastCommittedMillis, epoch));
      flushRecords();
    } else if (state.round() == replayUntil && !replayed(loss)) {
      return Behaviors.same();
    }
    epochLoss += loss;
    epochRounds++;
    long done = state.round();
    if (done % job.roundsPerEpoch() == 0 || done == job.totalRounds()) {
      evaluate(done);
    }
    int every = spec.checkpoint().everyRounds();
    if (done > replayUntil && every > 0 && done % every == 0 && done < job.totalRounds()) {
      capture();
    }
    if (pauseRequested && done >= replayUntil && done < job.totalRounds()) {
      beginPause();
    } else if (done > replayUntil && done - durableRound >= roundsAhead()) {
      stalled = true;  // the journal's ack restarts the rounds; a long wait degrades the job
      getContext().getLog().debug("job {}: round {} computed, the journal is at {}; waiting",
          jobId, done, durableRound);
    } else if (cancelReason != null) {
      getContext().getLog().debug("job {}: cancel requested, no round after {}", jobId, done);
    } else if (done < job.totalRounds()) {
      startRound();
    } else {
      phase = Phase.FINISHING;
      if (flushScheduled) {
        timers.cancel(FlushTick.INSTANCE);
        flushScheduled = false;
        flushRecords();
      }
      maybeFinish();
    }
    return this;
  }

  /**
   * A result that must not be applied (non-finite values, a wrong length): counted, never
   * reduced. Its tree node goes to another worker and the sender sits out until it delivers a
   * good result. A round that keeps getting bad results fails the job.
   */
  private Behavior<Command> reject(NodeResult n, String problem) {
    rejectedResults++;
    rejectedThisRound++;
    metrics.rejectedResult();
    getContext().getLog().warn("job {}: round {}: rejected the result of {} for shards {}..{}"
        + " from worker {}: {}", jobId, n.round() + 1, n.node(), n.node().from(),
        n.node().to(spec.logicalShards()) - 1, n.worker(), problem);
    if (rejectedThisRound > settings.badResultsPerRound()) {
      return fail("round " + (n.round() + 1) + ": " + rejectedThisRound + " results rejected,"
          + " more than anvil.coordinator.bad-results-per-round = "
          + settings.badResultsPerRound() + " (last from worker " + n.worker() + ": " + problem
          + "); the workers keep returning bad gradients");
    }
    for (ActorRef<WorkerCommand> w : live) {
      if (nameOf(w).equals(n.worker())) {
        suspects.putIfAbsent(w, n.round());
      }
    }
    if (rejectedThisRound == 1) {
      long now = System.currentTimeMillis();
      pendingRecoveries.add(new PendingRecovery(Recovery.seen("bad-gradient", "round "
          + (n.round() + 1) + ": worker " + n.worker() + " returned " + problem, 0, now,
          lastCommittedMillis, 1), n.round() + 1));
    }
    if (!round.covers(n.node())) {
      redispatchedNodes++;
      metrics.redispatched(1);
      List<ActorRef<WorkerCommand>> others = active().stream()
          .filter(w -> !nameOf(w).equals(n.worker())).toList();
      handOut(List.of(n.node()), others.isEmpty() ? active() : others);
    }
    return this;
  }

  /**
   * The replay reached the newest round an earlier incarnation committed: its loss must be the
   * recorded one, bit for bit (the determinism contract), or the job fails.
   */
  private boolean replayed(double loss) {
    if (Double.doubleToLongBits(loss) != Double.doubleToLongBits(recorded.lastLoss())) {
      fail("recomputed round " + replayUntil + " has loss " + loss + " but the journal records "
          + recorded.lastLoss() + ": the recomputation is not bitwise identical (is every node"
          + " running the same Anvil version and kernel?)");
      return false;
    }
    getContext().getLog().info("job {}: epoch {} restored rounds {}..{} ({} from the gradient"
        + " log, the rest recomputed) in {} ms; the loss of round {} matches the journal bit for"
        + " bit", jobId, epoch, restoredFrom + 1, replayUntil, replayedFromLog,
        System.currentTimeMillis() - resumedMillis, replayUntil);
    finishReplay();
    return true;
  }

  /**
   * The parameters are back at the newest committed round (restored, then recomputed): from
   * here rounds are new. A take-over that was not a resume completes a recovery with the next
   * durable round.
   */
  private void finishReplay() {
    if (replayFinished) {
      return;
    }
    replayFinished = true;
    long millis = System.currentTimeMillis() - resumedMillis;
    durableRound = replayUntil;
    if (resuming) {
      return;
    }
    long redone = replayUntil - restoredFrom - replayedFromLog;
    pendingRecoveries.add(new PendingRecovery(new Recovery("coordinator-restart", "epoch "
        + epoch + " on " + getContext().getSystem().address().hostPort()
        + " took over from epoch " + (epoch - 1) + (restoredFrom > 0 ? " at the checkpoint of"
        + " round " + restoredFrom : "") + (replayedFromLog > 0 ? ", replaying "
        + replayedFromLog + " logged gradients" : "") + ", recomputing " + redone
        + " committed rounds",
        recorded.lastRoundMillis(), incarnationStartMillis, resumedMillis, 0,
        recorded.lastRoundMillis(), redone, millis, 0),
        replayUntil + 1));
    if (replayUntil == job.totalRounds()) {
      completeRecoveries(replayUntil + 1, Map.of());
    }
  }

  private void evaluate(long done) {
    float[] params = state.params().clone();
    double trainLoss = epochLoss / epochRounds;
    epochLoss = 0;
    epochRounds = 0;
    pendingEvaluations++;
    evaluating.add(done);
    PreparedJob j = job;
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      var test = new dev.anvil.core.train.Evaluator(j.model(), j.data().test()).evaluate(params);
      return new dev.anvil.core.train.EpochReport((double) done / j.roundsPerEpoch(), done,
          trainLoss, test.meanLoss(), j.model().classifier() ? test.accuracy() : null);
    }, blocking), (report, error) -> new Evaluated(report, error == null ? null
        : rootMessage(error)));
  }

  private Behavior<Command> onEvaluated(Evaluated e) {
    pendingEvaluations--;
    if (e.error() != null) {
      return fail("evaluation failed: " + e.error());
    }
    evaluating.remove(e.report().round());
    history.add(e.report());
    history.sort((a, b) -> Long.compare(a.round(), b.round()));
    writeCheckpoint();
    maybeFinish();
    return this;
  }

  /**
   * Copies the parameters and optimizer state at this round boundary for a checkpoint. The copy
   * is written off the actor's thread (training goes on); a capture that finds another waiting
   * replaces it, so at most one copy waits and one is being written.
   */
  private void capture() {
    captured = new Captured(state.copy(), lastLoss, epochLoss, epochRounds);
    writeCheckpoint();
  }

  /** Writes the captured state once every evaluation up to its round is in the history. */
  private void writeCheckpoint() {
    if (captured == null || checkpointWriting
        || (!evaluating.isEmpty() && evaluating.first() <= captured.state().round())) {
      return;
    }
    Captured c = captured;
    captured = null;
    checkpointWriting = true;
    long round = c.state().round();
    Checkpoint checkpoint = new Checkpoint(jobId, recorded.spec(), wantedWorkers,
        job.dataFingerprint(), job.kernel().name(), c.state(), c.loss(),
        history.stream().filter(h -> h.round() <= round).toList(), c.epochLossSum(),
        c.epochRounds());
    CheckpointRepository to = store();
    String id = jobId;
    long start = System.nanoTime();
    long writer = epoch;
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      CheckpointFormat.Encoded encoded = CheckpointFormat.encodeWithChecksum(checkpoint);
      // held up by the fault hook (chaos runs only; on the blocking pool)
      FaultHooks.stall(FaultHooks.installed().checkpointStallMillis(id, round));
      var stored = to.write(id, round, encoded.bytes(), encoded.checksum());
      return new CheckpointWritten(new CheckpointCommitted(round, stored.location(),
          encoded.checksum(), encoded.bytes().length, writer), System.nanoTime() - start, null);
    }, blocking), (w, error) -> w != null ? w : new CheckpointWritten(
        new CheckpointCommitted(round, null, null, 0, writer), 0, rootMessage(error)));
  }

  private Behavior<Command> onCheckpointWritten(CheckpointWritten w) {
    checkpointWriting = false;
    if (w.error() != null) {
      getContext().getLog().warn("job {}: the checkpoint of round {} was not written ({});"
          + " training goes on, the next one is due in {} rounds", jobId, w.ref().round(),
          w.error(), spec.checkpoint().everyRounds());
      if (phase == Phase.PAUSING && state != null) {
        capture();  // a pause needs its checkpoint: try again
      }
      return this;
    }
    getContext().getLog().debug("job {}: checkpoint of round {} written, {} bytes in {} ms",
        jobId, w.ref().round(), w.ref().bytes(), w.nanos() / 1_000_000);
    metrics.checkpointWritten(w.nanos(), w.ref().bytes());
    written.add(w.ref());
    journalCheckpoint();
    writeCheckpoint();
    return this;
  }

  /** Journals the oldest written checkpoint once its round is durable, one at a time. */
  private void journalCheckpoint() {
    if (journalingCheckpoint != null || written.isEmpty()
        || written.get(0).round() > durableRound) {
      return;
    }
    journalingCheckpoint = written.remove(0);
    toJournal(new JobJournal.RecordCheckpoint(journalingCheckpoint, acks),
        JobJournal.Recorded.CHECKPOINT);
  }

  /** A checkpoint is journaled: checkpoints beyond the newest {@code keep} are deleted. */
  private void checkpointJournaled() {
    CheckpointCommitted done = journalingCheckpoint;
    journalingCheckpoint = null;
    if (done != null) {
      keptCheckpoints.add(done);
      getContext().getLog().debug("job {}: checkpoint of round {} committed ({} bytes)", jobId,
          done.round(), done.bytes());
      int keep = settings.keepCheckpoints();
      // Retention runs once every `keep` checkpoints (3 DELETEs and a journal event each time),
      // so between 'keep' and 2 * keep - 1 checkpoints exist.
      if (keptCheckpoints.size() >= 2 * keep) {
        long oldestKept = keptCheckpoints.get(keptCheckpoints.size() - keep).round();
        keptCheckpoints.subList(0, keptCheckpoints.size() - keep).clear();
        CheckpointRepository from = store();
        String id = jobId;
        journal.tell(new JobJournal.Compact(oldestKept));
        boolean logged = incremental();
        CompletableFuture.runAsync(() -> {
          from.deleteBefore(id, oldestKept);
          if (logged) {
            from.deleteGradientsThrough(id, oldestKept);
          }
        }, blocking)
            .exceptionally(e -> {
              LOG.warn("job {}: old checkpoints not deleted: {}", id, rootMessage(e));
              return null;
            });
      }
    }
    journalCheckpoint();
    maybePause();
  }

  private void flushRecords() {
    if (writing || unrecorded.isEmpty() || flushScheduled || cancelReason != null) {
      return;  // after a cancel, nothing more is recorded as committed
    }
    long sinceLast = System.nanoTime() - journalSentNanos;
    long interval = settings.minWriteInterval().toNanos();
    if (phase == Phase.TRAINING && sinceLast < interval) {
      flushScheduled = true;
      timers.startSingleTimer(FlushTick.INSTANCE, Duration.ofNanos(interval - sinceLast));
      return;
    }
    int perWrite = settings.maxRoundsPerWrite();
    if (incremental()) {
      perWrite = (int) Math.max(1, Math.min(perWrite,
          GRADIENT_BYTES_PER_WRITE / (4L * job.model().parameterCount())));
    }
    List<RoundCommitted> batch = List.copyOf(unrecorded.subList(0,
        Math.min(unrecorded.size(), perWrite)));
    writing = true;
    journalSentNanos = System.nanoTime();
    if (incremental()) {
      logGradientsThenJournal(batch);
      return;
    }
    sendRounds(batch);
  }

  /**
   * Journals a batch of rounds, with the oldest written checkpoint if its round is in the batch
   * (or older): one write instead of two on the common path.
   */
  private void sendRounds(List<RoundCommitted> batch) {
    CheckpointCommitted with = null;
    if (journalingCheckpoint == null && !written.isEmpty()
        && written.get(0).round() <= batch.get(batch.size() - 1).round()) {
      with = written.remove(0);
      journalingCheckpoint = with;
      checkpointWithRounds = true;
    }
    toJournal(new JobJournal.RecordRounds(batch, with, acks), JobJournal.Recorded.ROUNDS);
  }

  /** A round batch's answer also answers the checkpoint that went with it. */
  private void checkpointWithRoundsAnswered(Ack ack) {
    if (!checkpointWithRounds) {
      return;
    }
    checkpointWithRounds = false;
    if (ack.newestCheckpoint() >= journalingCheckpoint.round()) {
      checkpointJournaled();
    } else {
      requeueCheckpoint();
    }
  }

  /** The checkpoint that went with a round batch was not recorded: it goes again. */
  private void requeueCheckpoint() {
    checkpointWithRounds = false;
    written.add(0, journalingCheckpoint);
    journalingCheckpoint = null;
  }

  /**
   * Incremental mode: a round is journaled only once its gradient is in the log, so every
   * committed round can be replayed without recomputing it.
   */
  private void logGradientsThenJournal(List<RoundCommitted> batch) {
    long last = batch.get(batch.size() - 1).round();
    List<CheckpointStore.RoundGradient> gradients = unloggedGradients.stream()
        .filter(g -> g.round() <= last).toList();
    CheckpointRepository to = store();
    String id = jobId;
    getContext().pipeToSelf(CompletableFuture.runAsync(() -> to.writeGradients(id, gradients),
        blocking), (ok, error) -> new GradientsLogged(batch, error == null ? null
        : rootMessage(error)));
  }

  private Behavior<Command> onGradientsLogged(GradientsLogged g) {
    if (g.error() != null) {
      writing = false;
      degrade("the gradient log cannot be written (" + g.error() + "); retrying");
      flushScheduled = true;
      timers.startSingleTimer(FlushTick.INSTANCE, Duration.ofSeconds(1));
      return this;
    }
    long last = g.batch().get(g.batch().size() - 1).round();
    unloggedGradients.removeIf(x -> x.round() <= last);
    sendRounds(g.batch());
    return this;
  }

  private Behavior<Command> onRecorded(Recorded r) {
    Ack ack = r.ack();
    switch (ack.what()) {
      case STARTED:
        timers.cancel(new JournalTimeout(JobJournal.Recorded.STARTED));
        if (epoch == 0) {
          epoch = ack.epoch();
          getContext().getLog().info("job {}: coordinator epoch {} on {}", jobId, epoch,
              getContext().getSystem().address().hostPort());
          maybeRecruit();
        }
        return this;
      case SUPERSEDED:
        getContext().getLog().warn("job {}: coordinator epoch {} is superseded by epoch {} in"
            + " the journal; this incarnation stops without writing", jobId, epoch, ack.epoch());
        release();
        return Behaviors.stopped();
      case RECOVERY:
        if (!unackedRecoveries.isEmpty()) {
          unackedRecoveries.remove(0);
        }
        if (unackedRecoveries.isEmpty()) {
          timers.cancel(new JournalTimeout(JobJournal.Recorded.RECOVERY));
        }
        return this;
      case ROUNDS:
        timers.cancel(new JournalTimeout(JobJournal.Recorded.ROUNDS));
        writing = false;
        checkpointWithRoundsAnswered(ack);
        split.journalWrite(System.nanoTime() - journalSentNanos);
        roundsDurable(ack.lastRound());
        lastRoundsAckMillis = System.currentTimeMillis();
        flushRecords();
        maybeFinish();
        return this;
      case CHECKPOINT:
        timers.cancel(new JournalTimeout(JobJournal.Recorded.CHECKPOINT));
        checkpointJournaled();
        return this;
      case PAUSED:
        timers.cancel(new JournalTimeout(JobJournal.Recorded.PAUSED));
        if (phase == Phase.PAUSING) {
          phase = Phase.PAUSED;
          recorded = new JobJournal.State(recorded.spec(), recorded.workers(), ack.epoch(),
              ack.lastRound(), lastLoss, 0, List.copyOf(recoveries), recorded.checkpoints(),
              true, recorded.importedAt(), null, null, recorded.startedMillis());
          getContext().getLog().info("job {}: paused after round {}; its workers are free",
              jobId, pauseAt);
          release();
          dropTrainingState();
          notifyWatchers(new Paused(jobId, pauseAt));
          passivateWhenIdle();
        }
        return this;
      case RESUMED:
      case IMPORTED:
        timers.cancel(new JournalTimeout(ack.what()));
        if (phase == Phase.RESUMING) {
          journal.tell(new JobJournal.GetState(getContext().messageAdapter(
              JobJournal.State.class, JournalLoaded::new)));
        }
        return this;
      case REFUSED:
        timers.cancel(new JournalTimeout(JobJournal.Recorded.IMPORTED));
        phase = Phase.IDLE;
        notifyWatchers(new Rejected(jobId, "job " + jobId + " already exists here; import it"
            + " under another job id"));
        watchers.clear();
        return this;
      case CANCELLED:
        timers.cancel(new JournalTimeout(JobJournal.Recorded.CANCELLED));
        return phase == Phase.FAILED || phase == Phase.DONE ? this : cancelled();
      case COMPLETED:
        timers.cancel(new JournalTimeout(JobJournal.Recorded.COMPLETED));
        if (phase == Phase.FINISHING) {
          phase = Phase.DONE;
          if (incremental()) {
            forgetGradients();
          }
          notifyWatchers(new Finished(jobId, resultJson));
          release();
          dropTrainingState();
          passivateWhenIdle();
        }
        return this;
      default:
        return this;
    }
  }

  /** Rounds up to {@code last} are in the journal: report them committed. */
  private void roundsDurable(long last) {
    RoundCommitted newest = null;
    // The journal's times of these rounds, kept only for recoveries waiting for one of them.
    boolean recovering = !pendingRecoveries.isEmpty();
    Map<Long, Long> committedMillis = recovering ? new HashMap<>() : Map.of();
    while (!unrecorded.isEmpty() && unrecorded.get(0).round() <= last) {
      newest = unrecorded.remove(0);
      if (recovering) {
        committedMillis.put(newest.round(), newest.epochMillis());
      }
    }
    if (newest == null || last <= durableRound) {
      return;
    }
    long newlyDurable = last - durableRound;
    durableRound = last;
    if (degraded) {
      degraded = false;
      long now = System.currentTimeMillis();
      pendingRecoveries.add(new PendingRecovery(Recovery.seen("journal-outage", "the journal"
          + " did not record rounds for " + (now - degradedSinceMillis) + " ms",
          lastRoundsAckMillis, degradedSinceMillis, lastRoundsAckMillis, 0), last));
      getContext().getLog().info("job {}: the journal records rounds again (up to round {})",
          jobId, last);
    }
    completeRecoveries(last, committedMillis);
    journalCheckpoint();
    Long nanos = trainNanosAt.remove(newest.round());
    trainNanosAt.headMap(newest.round()).clear();
    double seconds = (nanos == null ? trainNanos : nanos) / 1e9;
    double samplesPerSecond = durableRound * job.spec().batchSize() / seconds;
    metrics.roundsDurable(jobId, newlyDurable, samplesPerSecond);
    notifyWatchers(new Progress(jobId, durableRound, job.totalRounds(), newest.loss(),
        samplesPerSecond));
    if (stalled && phase == Phase.TRAINING && cancelReason == null) {
      stalled = false;
      if (pauseRequested) {
        beginPause();
      } else if (state.round() < job.totalRounds()) {
        startRound();
      }
    }
    maybePause();
  }

  private boolean incremental() {
    return spec.checkpoint().mode() == dev.anvil.core.spec.CheckpointSpec.Mode.INCREMENTAL;
  }

  /**
   * Most rounds computed past the newest durable one. In incremental mode each holds a gradient
   * in memory until logged, so the bound is also {@value #GRADIENT_BYTES_AHEAD} bytes of them.
   */
  private long roundsAhead() {
    if (!incremental()) {
      return settings.maxRoundsAhead();
    }
    long perRound = 4L * job.model().parameterCount();
    return Math.max(2, Math.min(settings.maxRoundsAhead(), GRADIENT_BYTES_AHEAD / perRound));
  }

  /** A finished job is never replayed: its gradient log goes (its checkpoints stay). */
  private void forgetGradients() {
    CheckpointRepository from = store();
    String id = jobId;
    CompletableFuture.runAsync(() -> from.deleteGradientsThrough(id, Long.MAX_VALUE), blocking)
        .exceptionally(e -> {
          LOG.warn("job {}: gradient log not deleted: {}", id, rootMessage(e));
          return null;
        });
  }

  /** The journal is not keeping up: say so once per outage (watchers and the log). */
  private void degrade(String reason) {
    if (degraded) {
      return;
    }
    degraded = true;
    degradedSinceMillis = System.currentTimeMillis()
        - (System.nanoTime() - journalSentNanos) / 1_000_000;  // since the unanswered write
    getContext().getLog().warn("job {} is degraded: {}", jobId, reason);
    notifyWatchers(new Degraded(jobId, reason));
  }

  /** Stops dispatching at this round boundary and checkpoints it; paused once both are durable. */
  private void beginPause() {
    phase = Phase.PAUSING;
    pauseAt = state.round();
    timers.cancel(RoundDeadline.KEY);
    getContext().getLog().info("job {}: pausing after round {}", jobId, pauseAt);
    if (newestKeptRound() != pauseAt) {
      if (written.stream().noneMatch(w -> w.round() == pauseAt)
          && (journalingCheckpoint == null || journalingCheckpoint.round() != pauseAt)) {
        capture();
      }
    }
    flushRecords();
    maybePause();
  }

  private void maybePause() {
    if (phase != Phase.PAUSING || durableRound < pauseAt || newestKeptRound() != pauseAt) {
      return;
    }
    toJournal(new JobJournal.RecordPaused(pauseAt, acks), JobJournal.Recorded.PAUSED);
  }

  private Behavior<Command> onPause(JobProtocol.Pause p) {
    watchers.add(p.replyTo());
    switch (phase) {
      case PAUSED -> p.replyTo().tell(new Paused(jobId, recorded.lastRound()));
      case DONE -> p.replyTo().tell(new Finished(jobId, resultJson));
      case FAILED -> p.replyTo().tell(new Failed(jobId, failure));
      case IDLE -> {
        watchers.remove(p.replyTo());
        p.replyTo().tell(new Rejected(jobId, "there is no job " + jobId + " to pause"));
      }
      case TRAINING, LOADING, RECRUITING, PREPARING -> {
        pauseRequested = true;
        getContext().getLog().info("job {}: pause requested", jobId);
      }
      default -> { }  // pausing, resuming, importing, finishing: the outcome comes anyway
    }
    return this;
  }

  private Behavior<Command> onResume(JobProtocol.Resume r) {
    watchers.add(r.replyTo());
    if (phase == Phase.PAUSED) {
      phase = Phase.RESUMING;
      toJournal(new JobJournal.RecordResumed(r.replyTo().path().address().toString(), acks),
          JobJournal.Recorded.RESUMED);
    } else if (phase == Phase.IDLE) {
      watchers.remove(r.replyTo());
      r.replyTo().tell(new Rejected(jobId, "there is no job " + jobId + " to resume"));
    } else if (phase == Phase.DONE) {
      r.replyTo().tell(new Finished(jobId, resultJson));
    } else if (phase == Phase.FAILED) {
      r.replyTo().tell(new Failed(jobId, failure));
    } else if (phase == Phase.TRAINING || phase == Phase.FINISHING) {
      pauseRequested = false;
      r.replyTo().tell(accepted());
    }
    return this;
  }

  private Behavior<Command> onCancel(JobProtocol.Cancel c) {
    watchers.add(c.replyTo());
    if (phase == Phase.DONE) {
      c.replyTo().tell(new Finished(jobId, resultJson));
    } else if (phase == Phase.FAILED) {
      c.replyTo().tell(new Failed(jobId, failure));
    } else if (phase == Phase.IDLE) {
      watchers.remove(c.replyTo());
      c.replyTo().tell(new Rejected(jobId, "there is no job " + jobId + " to cancel"));
    } else {
      cancelReason = "cancelled" + (c.reason().isBlank() ? "" : ": " + c.reason());
      toJournal(new JobJournal.RecordCancelled(cancelReason, acks),
          JobJournal.Recorded.CANCELLED);
    }
    return this;
  }

  /** A cancel is recorded: the job ends as failed with the cancel's reason. */
  private Behavior<Command> cancelled() {
    return end(cancelReason, false);
  }

  private Behavior<Command> onImport(JobProtocol.Import i) {
    if (phase != Phase.IDLE) {
      i.replyTo().tell(new Rejected(jobId, "job " + jobId + " already exists here; import it"
          + " under another job id"));
      return this;
    }
    Checkpoint c;
    try {
      c = CheckpointFormat.decode(i.checkpoint());
    } catch (CorruptCheckpointException e) {
      i.replyTo().tell(new Rejected(jobId, "the checkpoint file is not usable: "
          + e.getMessage()));
      return this;
    }
    int workers = i.workers() > 0 ? i.workers() : c.workers();
    watchers.add(i.replyTo());
    phase = Phase.IMPORTING;
    CheckpointRepository to = store();
    String id = jobId;
    byte[] bytes = i.checkpoint();
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      JobSpec imported = JobSpecParser.parseUntrusted(c.spec(), "the checkpoint's job",
          specRules);
      PreparedJob p = PreparedJob.prepare(imported, "the checkpoint's job", specRules);
      if (!p.dataFingerprint().equals(c.dataFingerprint())) {
        return new ImportChecked(null, null, 0, null, "the checkpoint was made on data with"
            + " fingerprint " + c.dataFingerprint() + " but the data here ("
            + imported.data() + ") has fingerprint " + p.dataFingerprint()
            + ": the parameters would not continue the same run");
      }
      if (!p.kernel().name().equals(c.kernel())) {
        return new ImportChecked(null, null, 0, null, "the checkpoint was computed with kernel "
            + c.kernel() + " but this cluster uses kernel " + p.kernel().name()
            + ": the bits would differ; set kernel = " + c.kernel() + " on this cluster's"
            + " nodes or import where it is available");
      }
      String sum = CheckpointFormat.checksum(bytes);
      var stored = to.write(id, c.round(), bytes, sum);
      return new ImportChecked(c, new CheckpointCommitted(c.round(), stored.location(), sum,
          bytes.length, 0), workers, p, null);
    }, blocking), (checked, error) -> checked != null ? checked
        : new ImportChecked(null, null, 0, null, rootMessage(error)));
    return this;
  }

  private Behavior<Command> onImportChecked(ImportChecked c) {
    if (c.error() != null) {
      phase = Phase.IDLE;
      Rejected no = new Rejected(jobId, c.error());
      notifyWatchers(no);
      watchers.clear();
      getContext().getLog().warn("job {}: import refused: {}", jobId, c.error());
      return this;
    }
    Checkpoint k = c.checkpoint();
    phase = Phase.RESUMING;
    importedJob = c.prepared();  // the data the check loaded: the resume does not load it again
    toJournal(new JobJournal.RecordImported(new JobJournal.JobImported(k.spec(), c.workers(),
        k.round(), k.loss(), k.jobId()), c.ref(), acks), JobJournal.Recorded.IMPORTED);
    return this;
  }

  /** Replies with the newest checkpoint that verifies, read off the actor's thread. */
  private Behavior<Command> onExport(JobProtocol.Export e) {
    if (phase == Phase.IDLE || phase == Phase.IMPORTING) {
      e.replyTo().tell(new Exported(jobId, 0, null, "there is no job " + jobId + " here"));
      return this;
    }
    if (keptCheckpoints.isEmpty()) {
      e.replyTo().tell(new Exported(jobId, 0, null, "job " + jobId + " has no checkpoint yet"
          + " (it checkpoints every " + (spec == null ? "?" : spec.checkpoint().everyRounds())
          + " rounds; pause it to checkpoint now)"));
      return this;
    }
    CheckpointRepository from = store();
    String id = jobId;
    List<CheckpointCommitted> refs = newestFirst();
    CompletableFuture.runAsync(() -> {
      List<String> skipped = new ArrayList<>();
      Verified v = newestVerified(from, id, refs, c -> null, skipped);
      e.replyTo().tell(v != null ? new Exported(id, v.ref().round(), v.bytes(), null)
          : new Exported(id, 0, null, "no checkpoint of job " + id + " verifies: " + skipped));
    }, blocking);
    return this;
  }

  /** The journal's state, read again after a resume or an import: start a new incarnation. */
  private Behavior<Command> onJournalReloaded(JournalLoaded loaded) {
    if (phase != Phase.RESUMING) {
      return this;
    }
    return new JobCoordinator(getContext(), timers, jobId, journal, shard, repositories,
        loaded.state(), watchers, true);
  }

  /**
   * Recoveries waiting for a round up to {@code last} are complete: record them. Each is
   * complete at the time the journal records for the round it waited for
   * ({@code committedMillis}, by round), or when the work was handed out again if that is
   * later (rounds computed during a journal outage became durable only after it); now for a
   * round not in {@code committedMillis}.
   */
  private void completeRecoveries(long last, Map<Long, Long> committedMillis) {
    long now = System.currentTimeMillis();
    var it = pendingRecoveries.iterator();
    while (it.hasNext()) {
      PendingRecovery p = it.next();
      if (p.round() <= last) {
        it.remove();
        Recovery done = p.recovery().committedAt(Math.max(committedMillis.getOrDefault(
            p.round(), now), p.recovery().redispatchedMillis()));
        recoveries.add(done);
        unackedRecoveries.add(done);
        toJournal(new JobJournal.RecordRecovery(done, acks), JobJournal.Recorded.RECOVERY);
        getContext().getLog().info("job {}: recovered from {} ({}): {}", jobId, done.kind(),
            done.detail(), done.costs());
        metrics.recovered(done.kind(), done.recoveryMillis(), done.stallMillis());
        notifyWatchers(new JobProtocol.Recovered(jobId, done));
      }
    }
  }

  private Behavior<Command> onJournalTimeout(JournalTimeout t) {
    metrics.journalError();
    getContext().getLog().warn("job {}: the journal did not acknowledge {} within {} ms;"
        + " sending it again", jobId, t.what(), settings.journalAckTimeout().toMillis());
    switch (t.what()) {
      case STARTED -> {
        if (epoch == 0) {
          startEpoch();
        }
      }
      case ROUNDS -> {
        writing = false;
        if (checkpointWithRounds) {
          requeueCheckpoint();  // sent again, with the batch or alone
        }
        degrade("the journal did not acknowledge rounds within "
            + settings.journalAckTimeout().toMillis() + " ms; retrying");
        flushRecords();
      }
      case RECOVERY -> {
        for (Recovery r : unackedRecoveries) {
          toJournal(new JobJournal.RecordRecovery(r, acks), JobJournal.Recorded.RECOVERY);
        }
      }
      case COMPLETED -> {
        if (phase == Phase.FINISHING && resultJson != null) {
          toJournal(new JobJournal.RecordCompleted(resultJson, acks),
              JobJournal.Recorded.COMPLETED);
        }
      }
      case CHECKPOINT, PAUSED, RESUMED, CANCELLED, IMPORTED ->
          toJournal(sent.get(t.what()), t.what());
      default -> { }
    }
    return this;
  }

  /**
   * Sharding hands the job to another node (this node leaves, or the shard is rebalanced): the
   * workers are released and this incarnation stops; the next one takes over from the journal.
   */
  private Behavior<Command> onStop() {
    if (phase == Phase.TRAINING || phase == Phase.FINISHING) {
      getContext().getLog().info("job {}: handing off at round {} ({} durable)", jobId,
          state == null ? 0 : state.round(), durableRound);
    }
    release();
    return Behaviors.stopped();
  }

  private Accepted accepted() {
    return new Accepted(jobId, job.totalRounds(), job.model().describe(), live.size(),
        assignment.nodes(), hostAndPort(getContext().getSystem().address()));
  }

  /** Finishes once every round is durable and every evaluation is back. */
  private void maybeFinish() {
    if (phase != Phase.FINISHING || resultJson != null || pendingEvaluations > 0
        || durableRound < job.totalRounds() || history.isEmpty()) {
      return;
    }
    dev.anvil.core.train.EpochReport last = history.get(history.size() - 1);
    double trainSeconds = trainNanos / 1e9;
    resultJson = new dev.anvil.core.train.TrainingResult(spec.name(), job.model().describe(),
        spec.seed(), job.kernel().name(), job.totalRounds(),
        (double) job.totalRounds() / job.roundsPerEpoch(), spec.logicalShards(),
        spec.batchSize(), live.size(), assignment.nodes(), last.trainLoss(),
        last.testAccuracy(), last.testLoss(),
        dev.anvil.core.data.Digests.sha256(state.params()), job.dataFingerprint(),
        (System.currentTimeMillis() - jobStartMillis) / 1e3, trainSeconds,
        (job.totalRounds() - restoredFrom - replayedFromLog) * spec.batchSize() / trainSeconds,
        history,
        new dev.anvil.core.train.ClusterFacts(split.meansMs(), epoch, lateResults,
            rejectedResults, redispatchedNodes, recoveries)).toJson();
    toJournal(new JobJournal.RecordCompleted(resultJson, acks), JobJournal.Recorded.COMPLETED);
  }

  private Behavior<Command> fail(String reason) {
    return end(reason, true);
  }

  /** The job ends unsuccessfully; {@code record}: journal why (a cancel is journaled already). */
  private Behavior<Command> end(String reason, boolean record) {
    if (phase == Phase.DONE || phase == Phase.FAILED) {
      return this;
    }
    getContext().getLog().warn("job {} {}: {}", jobId, record ? "failed" : "ended", reason);
    phase = Phase.FAILED;
    failure = reason;
    passivateWhenIdle();
    if (record) {
      journal.tell(new JobJournal.RecordFailed(reason, acks));
    }
    notifyWatchers(new Failed(jobId, reason));
    release();
    dropTrainingState();
    return this;
  }

  /**
   * A finished job keeps only its outcome: the data, model and parameters go, so that finished
   * coordinators waiting for passivation do not hold a data set each.
   */
  private void dropTrainingState() {
    metrics.jobEnded(jobId);
    job = null;
    state = null;
    round = null;
    update = null;
    unrecorded.clear();
    trainNanosAt.clear();
    unloggedGradients.clear();
  }

  private void release() {
    for (ActorRef<WorkerCommand> w : recruits) {
      w.tell(new ReleaseJob(jobId));
    }
  }

  private void notifyWatchers(JobUpdate u) {
    for (ActorRef<JobUpdate> w : watchers) {
      w.tell(u);
    }
  }

  private static String hostAndPort(org.apache.pekko.actor.Address a) {
    return a.getHost().orElse("?") + ":" + a.getPort().map(String::valueOf).orElse("?");
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException
        || t.getMessage() == null)) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}
