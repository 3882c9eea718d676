package dev.anvil.coordinator;

import com.typesafe.config.Config;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.wire.AnvilSerializable;
import dev.anvil.persistence.EventDeleter;
import dev.anvil.persistence.JdbcEventDeleter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job's record in the journal, beside the round driver ({@link JobCoordinator}): the driver
 * computes round r+1 while round r is being written (the determinism contract makes that safe), and
 * reports a round committed only once this actor has acknowledged it.
 *
 * <p>Idempotent: a round at or below the newest recorded one is acknowledged and not written again,
 * so a coordinator that recomputes rounds after a restart never duplicates them.
 *
 * <p>Epochs (fencing): every coordinator incarnation first records {@link CoordinatorStarted} with
 * the next epoch, and every event it writes carries that epoch. Pekko has no fencing, so a frozen
 * coordinator that wakes up (a zombie) may still try to write. Its writes fail: the journal's
 * (persistence id, sequence number) key refuses a sequence number the new incarnation already used,
 * the failed write restarts this actor, and the replay shows it a newer epoch than its own, after
 * which it answers {@link Recorded#SUPERSEDED} and writes nothing more. A zombie event that did
 * land after a newer epoch's start would be a single-writer violation; {@link JournalCheck} counts
 * them.
 */
public final class JobJournal
    extends EventSourcedBehaviorWithEnforcedReplies<
        JournalCommands.Command, JobJournal.Event, JournalState>
    implements JournalCommands {

  /** Persisted events. */
  public sealed interface Event extends AnvilSerializable {
    /** The coordinator incarnation that wrote the event (0: before any incarnation). */
    long epoch();

    /**
     * The journal's state after this event. Every event type says what it changes (a new one that
     * does not is a compile error); pure: no I/O, no clock, nothing but the new state.
     */
    JournalState applyTo(JournalState journal);
  }

  public record JobSubmitted(String spec, int workers) implements Event {
    @Override
    public long epoch() {
      return 0;
    }

    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withJob(spec, workers);
    }
  }

  /**
   * Coordinator incarnation {@code epoch} took over the job, on {@code node}; the event's own
   * sequence number is {@code sequenceNumber} (0: unknown, written before it was recorded).
   */
  public record CoordinatorStarted(long epoch, String node, long epochMillis, long sequenceNumber)
      implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      JournalState started =
          journal
              .withEpoch(Math.max(journal.epoch(), epoch))
              .withStartedMillis(
                  journal.startedMillis() > 0 ? journal.startedMillis() : epochMillis);
      return sequenceNumber > 0 ? started.withEpochStart(sequenceNumber) : started;
    }
  }

  /** Round {@code round} (1-based) is committed: its update is part of the parameters. */
  public record RoundCommitted(long round, double loss, long samples, long epochMillis, long epoch)
      implements Event {
    /** A round at or below the newest recorded one changes nothing. */
    @Override
    public JournalState applyTo(JournalState journal) {
      return round <= journal.lastRound()
          ? journal
          : journal.withLastRound(round, loss, epochMillis);
    }
  }

  /** The job recovered from a fault. */
  public record RecoveryRecorded(Recovery recovery, long epoch) implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withRecovery(recovery);
    }
  }

  /**
   * The checkpoint of round {@code round} is stored at {@code location} ({@code bytes} long,
   * SHA-256 {@code checksum}); rounds up to it need not be recomputed.
   */
  public record CheckpointCommitted(
      long round, String location, String checksum, long bytes, long epoch) implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withCheckpoint(this);
    }
  }

  /** The job stopped after round {@code round} (checkpointed) and released its workers. */
  public record JobPaused(long round, long epoch) implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withPaused(true);
    }
  }

  /** The job was resumed by {@code by} (a client address); the next incarnation takes it on. */
  public record JobResumed(String by, long epochMillis, long epoch) implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withPaused(false);
    }
  }

  /** The job was cancelled; it does not run again. */
  public record JobCancelled(String reason, long epoch) implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withPaused(false).withFailure(reason);
    }
  }

  /**
   * The job was imported from a checkpoint exported by another cluster (job {@code sourceJob}), at
   * round {@code round}, whose loss was {@code loss}.
   */
  public record JobImported(String spec, int workers, long round, double loss, String sourceJob)
      implements Event {
    @Override
    public long epoch() {
      return 0;
    }

    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withJob(spec, workers).withLastRound(round, loss, 0).withImportedAt(round);
    }
  }

  public record JobCompleted(String resultJson, long epoch) implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withPaused(false).withResult(resultJson);
    }
  }

  /**
   * The journal's state when its events before sequence number {@code deletedBefore} were deleted:
   * a replay that starts after them resumes from here (earlier events it still finds are superseded
   * by this summary).
   *
   * <p>The summary holds no epoch starts ({@link JournalState#epochStarts}): their rows are never
   * deleted, so a replay has seen them all before it reaches this event, and the stored form
   * ({@link JournalFormat#COMPACTED}) has no place for them.
   */
  public record JournalCompacted(JournalState summary, long deletedBefore, long epoch)
      implements Event {
    public JournalCompacted {
      summary = summary.withEpochStarts(Set.of());
    }

    @Override
    public JournalState applyTo(JournalState journal) {
      return summary.withEpochStarts(journal.epochStarts());
    }
  }

  public record JobFailed(String reason, long epoch) implements Event {
    @Override
    public JournalState applyTo(JournalState journal) {
      return journal.withPaused(false).withFailure(reason);
    }
  }

  public static PersistenceId persistenceId(String jobId) {
    return PersistenceId.of("anvil-job", jobId);
  }

  public static Behavior<Command> create(String jobId) {
    return create(jobId, EventDeleter.KEEP);
  }

  /** A journal that deletes events older than the oldest kept checkpoint with {@code deleter}. */
  public static Behavior<Command> create(String jobId, EventDeleter deleter) {
    return new JobJournal(persistenceId(jobId), deleter);
  }

  /**
   * A journal that deletes events older than the oldest kept checkpoint from the journal's table in
   * the node's {@code config}, unless {@code anvil.checkpoint.delete-old-events} is off.
   */
  public static Behavior<Command> create(String jobId, Config config) {
    return create(
        jobId,
        config.getBoolean("anvil.checkpoint.delete-old-events")
            ? JdbcEventDeleter.from(config)
            : EventDeleter.KEEP);
  }

  private static final Logger LOG = LoggerFactory.getLogger(JobJournal.class);

  /** The epoch this incarnation recorded (0 until it has); survives restarts of this actor. */
  private long ownEpoch;

  private ActorContext<Command> context;
  private final EventDeleter deleter;

  /** Sequence numbers of the checkpoints this incarnation recorded, by round. */
  private final Map<Long, Long> checkpointSequence = new HashMap<>();

  /** Events before this sequence number are deleted (or being deleted). */
  private long deletedBefore;

  private JobJournal(PersistenceId id, EventDeleter deleter) {
    // After an outage each stale pooled connection fails one write: a second of good writes
    // resets the back-off, so those restarts are short.
    super(
        id,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2)
            .withResetBackoffAfter(Duration.ofSeconds(1)));
    this.deleter = deleter;
  }

  /**
   * Keeps the context for {@link #lastSequenceNumber}. Not wrapped in {@code Behaviors.setup}: a
   * restart must keep this instance, whose {@link #ownEpoch} is the incarnation's.
   */
  @Override
  public Behavior<Command> apply(TypedActorContext<Command> ctx) {
    context = ctx.asJava();
    return super.apply(ctx);
  }

  @Override
  public JournalState emptyState() {
    return JournalState.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, JournalState> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(GetState.class, (state, c) -> Effect().reply(c.replyTo(), state))
        .onCommand(RecordSubmitted.class, this::onSubmitted)
        .onCommand(StartEpoch.class, this::onStartEpoch)
        .onCommand(RecordRounds.class, this::onRounds)
        .onCommand(RecordRecovery.class, this::onRecovery)
        .onCommand(RecordCheckpoint.class, this::onCheckpoint)
        .onCommand(Compact.class, this::onCompact)
        .onCommand(RecordPaused.class, this::onPaused)
        .onCommand(RecordResumed.class, this::onResumed)
        .onCommand(RecordCancelled.class, this::onCancelled)
        .onCommand(RecordImported.class, this::onImported)
        .onCommand(RecordCompleted.class, this::onCompleted)
        .onCommand(RecordFailed.class, this::onFailed)
        .build();
  }

  private ReplyEffect<Event, JournalState> onRecovery(JournalState state, RecordRecovery c) {
    return superseded(state)
        ? supersededReply(state, c.replyTo())
        : Effect()
            .persist(new RecoveryRecorded(c.recovery(), ownEpoch))
            .thenReply(c.replyTo(), s -> ack(Recorded.RECOVERY, s));
  }

  private ReplyEffect<Event, JournalState> onPaused(JournalState state, RecordPaused c) {
    return superseded(state)
        ? supersededReply(state, c.replyTo())
        : state.paused()
            ? Effect().reply(c.replyTo(), ack(Recorded.PAUSED, state))
            : Effect()
                .persist(new JobPaused(c.round(), ownEpoch))
                .thenReply(c.replyTo(), s -> ack(Recorded.PAUSED, s));
  }

  private ReplyEffect<Event, JournalState> onResumed(JournalState state, RecordResumed c) {
    return !state.paused()
        ? Effect().reply(c.replyTo(), ack(Recorded.RESUMED, state))
        : Effect()
            .persist(new JobResumed(c.by(), System.currentTimeMillis(), state.epoch()))
            .thenReply(c.replyTo(), s -> ack(Recorded.RESUMED, s));
  }

  private ReplyEffect<Event, JournalState> onCancelled(JournalState state, RecordCancelled c) {
    return superseded(state)
        ? supersededReply(state, c.replyTo())
        : state.finished()
            ? Effect().reply(c.replyTo(), ack(Recorded.CANCELLED, state))
            : Effect()
                .persist(new JobCancelled(c.reason(), ownEpoch))
                .thenReply(c.replyTo(), s -> ack(Recorded.CANCELLED, s));
  }

  private ReplyEffect<Event, JournalState> onImported(JournalState state, RecordImported c) {
    return state.submitted()
        ? Effect().reply(c.replyTo(), ack(Recorded.REFUSED, state))
        : Effect()
            .persist(List.of(c.imported(), c.checkpoint()))
            .thenReply(c.replyTo(), s -> ack(Recorded.IMPORTED, s));
  }

  private ReplyEffect<Event, JournalState> onCompleted(JournalState state, RecordCompleted c) {
    return superseded(state)
        ? supersededReply(state, c.replyTo())
        : Effect()
            .persist(new JobCompleted(c.resultJson(), ownEpoch))
            .thenReply(c.replyTo(), s -> ack(Recorded.COMPLETED, s));
  }

  private ReplyEffect<Event, JournalState> onFailed(JournalState state, RecordFailed c) {
    return superseded(state)
        ? supersededReply(state, c.replyTo())
        : state.finished()
            ? Effect().reply(c.replyTo(), ack(Recorded.FAILED, state))
            : Effect()
                .persist(new JobFailed(c.reason(), ownEpoch))
                .thenReply(c.replyTo(), s -> ack(Recorded.FAILED, s));
  }

  /** A newer incarnation has written to the journal since this one started. */
  private boolean superseded(JournalState state) {
    return ownEpoch > 0 && state.epoch() > ownEpoch;
  }

  private ReplyEffect<Event, JournalState> supersededReply(
      JournalState state, ActorRef<Ack> replyTo) {
    return Effect().reply(replyTo, ack(Recorded.SUPERSEDED, state));
  }

  private static Ack ack(Recorded what, JournalState s) {
    return new Ack(
        what,
        s.lastRound(),
        s.epoch(),
        s.newestCheckpoint() == null ? 0 : s.newestCheckpoint().round());
  }

  private ReplyEffect<Event, JournalState> onSubmitted(JournalState state, RecordSubmitted c) {
    if (state.submitted()) {
      return Effect().reply(c.replyTo(), ack(Recorded.SUBMITTED, state));
    }
    return Effect()
        .persist(new JobSubmitted(c.spec(), c.workers()))
        .thenReply(c.replyTo(), s -> ack(Recorded.SUBMITTED, s));
  }

  private ReplyEffect<Event, JournalState> onStartEpoch(JournalState state, StartEpoch c) {
    if (ownEpoch > 0) {
      return superseded(state)
          ? supersededReply(state, c.replyTo())
          : Effect().reply(c.replyTo(), ack(Recorded.STARTED, state));
    }
    long next = state.epoch() + 1;
    return Effect()
        .persist(
            new CoordinatorStarted(
                next, c.node(), System.currentTimeMillis(), lastSequenceNumber(context) + 1))
        .thenRun(s -> ownEpoch = next)
        .thenReply(c.replyTo(), s -> ack(Recorded.STARTED, s));
  }

  private ReplyEffect<Event, JournalState> onRounds(JournalState state, RecordRounds c) {
    if (superseded(state)) {
      return supersededReply(state, c.replyTo());
    }
    List<Event> fresh = new ArrayList<>();
    long last = state.lastRound();
    for (RoundCommitted r : c.rounds()) {
      if (r.round() == last + 1) {
        fresh.add(new RoundCommitted(r.round(), r.loss(), r.samples(), r.epochMillis(), ownEpoch));
        last = r.round();
      }
    }
    CheckpointCommitted k = c.checkpoint();
    long sequence = lastSequenceNumber(context) + fresh.size() + 1;
    boolean withCheckpoint = k != null && state.takes(k, last);
    if (withCheckpoint) {
      fresh.add(
          new CheckpointCommitted(k.round(), k.location(), k.checksum(), k.bytes(), ownEpoch));
    }
    if (fresh.isEmpty()) {
      return Effect().reply(c.replyTo(), ack(Recorded.ROUNDS, state));
    }
    return Effect()
        .persist(fresh)
        .thenRun(
            s -> {
              if (withCheckpoint) {
                checkpointSequence.put(k.round(), sequence);
              }
            })
        .thenReply(c.replyTo(), s -> ack(Recorded.ROUNDS, s));
  }

  private ReplyEffect<Event, JournalState> onCheckpoint(JournalState state, RecordCheckpoint c) {
    if (superseded(state)) {
      return supersededReply(state, c.replyTo());
    }
    CheckpointCommitted k = c.checkpoint();
    if (!state.takes(k, state.lastRound())) {
      return Effect().reply(c.replyTo(), ack(Recorded.CHECKPOINT, state));
    }
    long sequence = lastSequenceNumber(context) + 1;
    return Effect()
        .persist(
            new CheckpointCommitted(k.round(), k.location(), k.checksum(), k.bytes(), ownEpoch))
        .thenRun(s -> checkpointSequence.put(k.round(), sequence))
        .thenReply(c.replyTo(), s -> ack(Recorded.CHECKPOINT, s));
  }

  /**
   * Records the state, then deletes the events before the oldest kept checkpoint's (off this
   * actor's thread). Only checkpoints this incarnation recorded are known by sequence number; for
   * older ones nothing is deleted until a newer checkpoint is the oldest kept.
   */
  private ReplyEffect<Event, JournalState> onCompact(JournalState state, Compact c) {
    Long sequence = checkpointSequence.get(c.oldestKeptRound());
    if (superseded(state) || sequence == null || sequence <= deletedBefore) {
      return Effect().noReply();
    }
    deletedBefore = sequence;
    checkpointSequence.keySet().removeIf(round -> round < c.oldestKeptRound());
    String id = persistenceId().id();
    Set<Long> kept = state.epochStarts();
    return Effect()
        .persist(new JournalCompacted(state, sequence, ownEpoch))
        .thenRun(
            s ->
                CompletableFuture.runAsync(
                        () -> deleter.deleteBefore(id, sequence, kept),
                        context.getSystem().dispatchers().lookup(DispatcherSelector.blocking()))
                    .exceptionally(
                        e -> {
                          LOG.warn("journal of {}: old events not deleted: {}", id, e.getMessage());
                          return null;
                        }))
        .thenNoReply();
  }

  /** Pure: the state after each event and nothing else ({@link Event#applyTo}). */
  @Override
  public EventHandler<JournalState, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(JournalState::apply);
  }
}
