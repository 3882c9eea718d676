package dev.anvil.coordinator;

import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.protocol.TrainingProtocol.WorkerReply;
import dev.anvil.core.spec.SpecRules;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;

/**
 * The setup of one job's coordinator, shared by its behaviors and incarnations in this JVM: the
 * actor's context and timers, its journal, adapters, settings, metrics, watchers and checkpoint
 * I/O. Nothing here changes once made.
 */
final class CoordinatorContext {
  /** Posted to itself by the coordinator once idle long enough: sharding may passivate it. */
  enum PassivateIdle implements JobCoordinator.Command {
    INSTANCE
  }

  /** For threads other than the actor's (its own logger is the actor's alone). */
  private static final Logger LOG = org.slf4j.LoggerFactory.getLogger(JobCoordinator.class);

  final ActorContext<JobCoordinator.Command> actor;
  final TimerScheduler<JobCoordinator.Command> timers;
  final String jobId;
  final ActorRef<WorkerReply> replies;
  final ActorRef<Ack> acks;
  final Executor blocking;
  final CoordinatorSettings settings;

  /** What this node accepts in a job: every spec it reads came from elsewhere. */
  final SpecRules specRules;

  final JobMetrics metrics;
  final Watchers watchers = new Watchers();
  final JournalLink journal;
  final CheckpointIo io;
  private final ActorRef<ClusterSharding.ShardCommand> shard;

  CoordinatorContext(
      ActorContext<JobCoordinator.Command> actor,
      TimerScheduler<JobCoordinator.Command> timers,
      String jobId,
      ActorRef<JobJournal.Command> journal,
      ActorRef<ClusterSharding.ShardCommand> shard,
      CheckpointIo io) {
    this.actor = actor;
    this.timers = timers;
    this.jobId = jobId;
    this.shard = shard;
    this.io = io;
    var config = actor.getSystem().settings().config();
    this.settings = CoordinatorSettings.from(config);
    this.specRules = SpecRules.from(config);
    this.metrics = JobMetrics.get(actor.getSystem());
    this.journal = new JournalLink(journal, timers, settings);
    this.replies = actor.messageAdapter(WorkerReply.class, JobCoordinator.FromWorker::new);
    this.acks = actor.messageAdapter(Ack.class, JobCoordinator.Recorded::new);
    this.blocking = actor.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
  }

  Logger log() {
    return actor.getLog();
  }

  /** This node's host:port. */
  String hostPort() {
    return actor.getSystem().address().hostPort();
  }

  UniqueAddress selfNode() {
    return Cluster.get(actor.getSystem()).selfMember().uniqueAddress();
  }

  /**
   * Runs blocking {@code work} on the blocking dispatcher; its value, or the root message of what
   * it threw, comes back to the actor as the message {@code done} makes.
   */
  <T> void pipe(
      Supplier<T> work,
      Function<T, JobCoordinator.Command> done,
      Function<String, JobCoordinator.Command> failed) {
    actor.pipeToSelf(
        CompletableFuture.supplyAsync(work, blocking),
        (value, error) -> error == null ? done.apply(value) : failed.apply(rootMessage(error)));
  }

  /** Runs blocking {@code work} that nobody waits for; a failure is logged as {@code what}. */
  void background(Runnable work, String what) {
    String id = jobId;
    CompletableFuture.runAsync(work, blocking)
        .exceptionally(
            e -> {
              LOG.warn("job {}: {}: {}", id, what, rootMessage(e));
              return null;
            });
  }

  /** Once idle for the configured time, a sharded coordinator may be passivated. */
  void passivateWhenIdle() {
    if (shard != null) {
      timers.startSingleTimer(PassivateIdle.INSTANCE, settings.passivateFinishedAfter());
    }
  }

  void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(actor.getSelf()));
  }

  /** Tells {@code workers} the job no longer needs them. */
  void release(List<ActorRef<WorkerCommand>> workers) {
    for (ActorRef<WorkerCommand> w : workers) {
      w.tell(new ReleaseJob(jobId));
    }
  }

  static String rootMessage(Throwable t) {
    while (t.getCause() != null && (t instanceof CompletionException || t.getMessage() == null)) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}
