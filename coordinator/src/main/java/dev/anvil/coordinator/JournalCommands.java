package dev.anvil.coordinator;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.JobImported;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.core.train.Recovery;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a coordinator asks of its {@link JobJournal}, and how the journal answers. Local to the
 * coordinator's JVM (never serialized). {@link JobJournal} implements this interface, so the
 * commands are also named {@code JobJournal.RecordRounds} and so on.
 */
public interface JournalCommands {
  /** Commands from the driver (local only: never serialized). */
  sealed interface Command {}

  record GetState(ActorRef<JournalState> replyTo) implements Command {}

  /**
   * The job's spec and worker count. Idempotent, so it may be sent again until acknowledged (as
   * {@link JournalLink} does): a job already submitted is acknowledged and nothing is written (the
   * first spec stands). Its event may land after the incarnation's {@link CoordinatorStarted} when
   * the first attempt was lost; the state does not depend on their order.
   */
  record RecordSubmitted(String spec, int workers, ActorRef<Ack> replyTo) implements Command {}

  /** Start a new incarnation: records the next epoch; the ack carries it. */
  record StartEpoch(String node, ActorRef<Ack> replyTo) implements Command {}

  /**
   * Rounds to record, in order, and optionally a checkpoint (null: none) recorded in the same write
   * when its round is among them or older: one transaction instead of two.
   */
  record RecordRounds(
      List<RoundCommitted> rounds, CheckpointCommitted checkpoint, ActorRef<Ack> replyTo)
      implements Command {
    public RecordRounds(List<RoundCommitted> rounds, ActorRef<Ack> replyTo) {
      this(rounds, null, replyTo);
    }
  }

  record RecordRecovery(Recovery recovery, ActorRef<Ack> replyTo) implements Command {}

  record RecordCompleted(String resultJson, ActorRef<Ack> replyTo) implements Command {}

  /** A checkpoint of a durable round is stored; recorded once, in round order. */
  record RecordCheckpoint(CheckpointCommitted checkpoint, ActorRef<Ack> replyTo)
      implements Command {}

  /** The job stopped at a checkpointed round boundary and holds no workers. */
  record RecordPaused(long round, ActorRef<Ack> replyTo) implements Command {}

  record RecordResumed(String by, ActorRef<Ack> replyTo) implements Command {}

  record RecordCancelled(String reason, ActorRef<Ack> replyTo) implements Command {}

  /**
   * Retention: the job no longer needs anything before its checkpoint of round {@code
   * oldestKeptRound}. The journal records its state ({@link JournalCompacted}) and deletes the
   * events before that checkpoint's; no answer.
   */
  record Compact(long oldestKeptRound) implements Command {}

  /**
   * The job arrives from another cluster at {@code checkpoint}'s round: rounds up to it count as
   * committed here. Only for a job this journal has never seen.
   */
  record RecordImported(JobImported imported, CheckpointCommitted checkpoint, ActorRef<Ack> replyTo)
      implements Command {}

  /**
   * The job failed. Idempotent, so it may be sent again until acknowledged: a job that already has
   * an outcome (completed, failed or cancelled) is acknowledged and nothing is written (the first
   * outcome stands, as for {@link RecordCancelled}).
   */
  record RecordFailed(String reason, ActorRef<Ack> replyTo) implements Command {}

  /** What an acknowledgement answers. */
  enum Recorded {
    SUBMITTED,
    STARTED,
    ROUNDS,
    RECOVERY,
    CHECKPOINT,
    PAUSED,
    RESUMED,
    CANCELLED,
    IMPORTED,
    COMPLETED,
    FAILED,
    SUPERSEDED,
    REFUSED
  }

  /** {@code what} is durable, and so is every round up to {@code lastRound}. */
  record Ack(Recorded what, long lastRound, long epoch, long newestCheckpoint) {}
}
