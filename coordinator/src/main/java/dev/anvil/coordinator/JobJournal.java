package dev.anvil.coordinator;

import dev.anvil.core.wire.AnvilSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The job's record in the journal, beside the round driver ({@link JobCoordinator}): the driver
 * computes round r+1 while round r is being written (the determinism contract makes that safe),
 * and reports a round committed only once this actor has acknowledged it.
 *
 * <p>Idempotent: a round at or below the newest recorded one is acknowledged and not written
 * again, so a coordinator that recomputes rounds after a restart never duplicates them. A failed
 * write restarts this actor with back-off; the driver re-sends what was not acknowledged.
 */
public final class JobJournal
    extends EventSourcedBehaviorWithEnforcedReplies<JobJournal.Command, JobJournal.Event,
        JobJournal.State> {

  /** Commands from the driver (local only: never serialized). */
  public sealed interface Command {}

  public record GetState(ActorRef<State> replyTo) implements Command {}

  public record RecordSubmitted(String spec, int workers, ActorRef<Ack> replyTo)
      implements Command {}

  public record RecordRounds(List<RoundCommitted> rounds, ActorRef<Ack> replyTo)
      implements Command {}

  public record RecordCompleted(String resultJson, ActorRef<Ack> replyTo) implements Command {}

  public record RecordFailed(String reason, ActorRef<Ack> replyTo) implements Command {}

  /** What an acknowledgement answers. */
  public enum Recorded { SUBMITTED, ROUNDS, COMPLETED, FAILED }

  /** {@code what} is durable, and so is every round up to {@code lastRound}. */
  public record Ack(Recorded what, long lastRound) {}

  /** Persisted events. */
  public sealed interface Event extends AnvilSerializable {}

  public record JobSubmitted(String spec, int workers) implements Event {}

  /** Round {@code round} (1-based) is committed: its update is part of the parameters. */
  public record RoundCommitted(long round, double loss, long samples, long epochMillis)
      implements Event {}

  public record JobCompleted(String resultJson) implements Event {}

  public record JobFailed(String reason) implements Event {}

  /** The job as the journal knows it. */
  public record State(String spec, int workers, long lastRound, String result, String failure) {
    static final State EMPTY = new State(null, 0, 0, null, null);

    public boolean submitted() {
      return spec != null;
    }

    State apply(Event e) {
      if (e instanceof JobSubmitted s) {
        return new State(s.spec(), s.workers(), lastRound, result, failure);
      } else if (e instanceof RoundCommitted r) {
        return new State(spec, workers, Math.max(lastRound, r.round()), result, failure);
      } else if (e instanceof JobCompleted c) {
        return new State(spec, workers, lastRound, c.resultJson(), failure);
      }
      return new State(spec, workers, lastRound, result, ((JobFailed) e).reason());
    }
  }

  public static PersistenceId persistenceId(String jobId) {
    return PersistenceId.of("anvil-job", jobId);
  }

  public static Behavior<Command> create(String jobId) {
    return new JobJournal(persistenceId(jobId));
  }

  private JobJournal(PersistenceId id) {
    super(id, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200),
        Duration.ofSeconds(5), 0.2));
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(GetState.class, (state, c) -> Effect().reply(c.replyTo(), state))
        .onCommand(RecordSubmitted.class, this::onSubmitted)
        .onCommand(RecordRounds.class, this::onRounds)
        .onCommand(RecordCompleted.class, (state, c) -> Effect()
            .persist(new JobCompleted(c.resultJson()))
            .thenReply(c.replyTo(), s -> new Ack(Recorded.COMPLETED, s.lastRound())))
        .onCommand(RecordFailed.class, (state, c) -> Effect()
            .persist(new JobFailed(c.reason()))
            .thenReply(c.replyTo(), s -> new Ack(Recorded.FAILED, s.lastRound())))
        .build();
  }

  private ReplyEffect<Event, State> onSubmitted(State state, RecordSubmitted c) {
    if (state.submitted()) {
      return Effect().reply(c.replyTo(), new Ack(Recorded.SUBMITTED, state.lastRound()));
    }
    return Effect().persist(new JobSubmitted(c.spec(), c.workers()))
        .thenReply(c.replyTo(), s -> new Ack(Recorded.SUBMITTED, s.lastRound()));
  }

  private ReplyEffect<Event, State> onRounds(State state, RecordRounds c) {
    List<Event> fresh = new ArrayList<>();
    long last = state.lastRound();
    for (RoundCommitted r : c.rounds()) {
      if (r.round() == last + 1) {
        fresh.add(r);
        last = r.round();
      }
    }
    if (fresh.isEmpty()) {
      return Effect().reply(c.replyTo(), new Ack(Recorded.ROUNDS, state.lastRound()));
    }
    return Effect().persist(fresh)
        .thenReply(c.replyTo(), s -> new Ack(Recorded.ROUNDS, s.lastRound()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onAnyEvent(State::apply);
  }
}
