package dev.anvil.coordinator;

import java.util.EnumMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The coordinator's side of its {@link JobJournal}: every command that must be recorded is sent
 * with a timer, and sent again when its acknowledgement does not come in time (the journal is
 * idempotent, so a command recorded twice is recorded once).
 */
final class JournalLink {
  /** A journal command of this kind was not acknowledged in time. */
  record Timeout(JobJournal.Recorded what) implements JobCoordinator.Command {}

  private final ActorRef<JobJournal.Command> journal;
  private final TimerScheduler<JobCoordinator.Command> timers;
  private final CoordinatorSettings settings;

  /** The newest command of each kind sent, for sending again. */
  private final Map<JobJournal.Recorded, JobJournal.Command> sent =
      new EnumMap<>(JobJournal.Recorded.class);

  JournalLink(
      ActorRef<JobJournal.Command> journal,
      TimerScheduler<JobCoordinator.Command> timers,
      CoordinatorSettings settings) {
    this.journal = journal;
    this.timers = timers;
    this.settings = settings;
  }

  /** Sends {@code command}; unacknowledged within the timeout, {@link Timeout} comes. */
  void send(JobJournal.Command command, JobJournal.Recorded kind) {
    sent.put(kind, command);
    journal.tell(command);
    timers.startSingleTimer(new Timeout(kind), settings.journalAckTimeout());
  }

  /** Sends the newest command of {@code kind} again. */
  void resend(JobJournal.Recorded kind) {
    JobJournal.Command last = sent.get(kind);
    if (last != null) {
      send(last, kind);
    }
  }

  /** The command of {@code kind} was acknowledged. */
  void acknowledged(JobJournal.Recorded kind) {
    timers.cancel(new Timeout(kind));
  }

  /** Sends {@code command} once, with no timer (see where it is used for why). */
  void tell(JobJournal.Command command) {
    journal.tell(command);
  }
}
