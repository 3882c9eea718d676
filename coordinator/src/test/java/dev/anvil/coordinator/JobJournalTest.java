package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import dev.anvil.coordinator.JobJournal.Ack;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJunitResource;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The journal recorder, with serialization of every event and state checked on. */
class JobJournalTest {
  static final org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit testKit =
      org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit.create(
          EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));

  EventSourcedBehaviorTestKit<JobJournal.Command, JobJournal.Event, JobJournal.State> journal;

  @BeforeEach
  void start() {
    journal = EventSourcedBehaviorTestKit.create(testKit.system(), JobJournal.create("j1"),
        EventSourcedBehaviorTestKit.disabledSerializationSettings()
            .withVerifyEvents(true).withVerifyCommands(false).withVerifyState(false));
    journal.clear();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static RoundCommitted round(long r) {
    return new RoundCommitted(r, 0.5, 64, 1000 + r);
  }

  @Test
  void roundsAreRecordedOnceInOrder() {
    CommandResultWithReply<JobJournal.Command, JobJournal.Event, JobJournal.State, Ack> first =
        journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(
            List.of(round(1), round(2), round(3)), replyTo));
    assertEquals(3, first.reply().lastRound());
    assertEquals(3, first.events().size());

    var again = journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(
        List.of(round(2), round(3), round(4)), replyTo));
    assertEquals(List.of(round(4)), again.events(), "rounds 2 and 3 are not written twice");
    assertEquals(4, again.reply().lastRound());
    assertEquals(4, again.state().lastRound());
  }

  @Test
  void aRoundThatSkipsAheadIsNotRecorded() {
    var result = journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(
        List.of(round(2)), replyTo));
    assertEquals(0, result.events().size());
    assertEquals(0, result.reply().lastRound());
  }

  @Test
  void stateSurvivesARestart() {
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordSubmitted("job { }", 3, replyTo));
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordRounds(List.of(round(1)), replyTo));
    journal.<Ack>runCommand(replyTo -> new JobJournal.RecordCompleted("{}", replyTo));
    journal.restart();
    JobJournal.State s = journal.getState();
    assertEquals("job { }", s.spec());
    assertEquals(3, s.workers());
    assertEquals(1, s.lastRound());
    assertEquals("{}", s.result());
  }
}
