package dev.anvil.coordinator;

import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.coordinator.JournalCommands.Recorded;
import dev.anvil.core.train.Recovery;
import java.time.Duration;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's sends to its journal: a command not acknowledged within the timeout comes back
 * as a {@link JournalLink.Timeout} (one timer per kind) and can be sent again. Runs an actor that
 * holds a link, on manual time.
 */
class JournalLinkTest {
  private static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private static final ManualTime time = ManualTime.get(testKit.system());
  private static final Duration ACK_TIMEOUT = Duration.ofSeconds(5);

  /** How long (real time) a probe is watched for a message that must not come. */
  private static final Duration QUIET = Duration.ofMillis(200);

  private static final CoordinatorSettings SETTINGS =
      new CoordinatorSettings(
          Duration.ofSeconds(60),
          256,
          Duration.ofMillis(20),
          5,
          Duration.ofMillis(50),
          ACK_TIMEOUT,
          Duration.ofSeconds(30),
          256,
          3,
          8,
          50,
          null,
          false);

  /** Makes the test actor do {@code action} with its link, then say "done". */
  private record Act(Consumer<JournalLink> action) implements JobCoordinator.Command {}

  private TestProbe<JobJournal.Command> journal;
  private TestProbe<JournalLink.Timeout> timeouts;
  private TestProbe<String> done;
  private ActorRef<JobCoordinator.Command> holder;
  private ActorRef<Ack> acks;

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void start() {
    journal = testKit.createTestProbe();
    timeouts = testKit.createTestProbe();
    done = testKit.createTestProbe();
    acks = testKit.<Ack>createTestProbe().ref();
    holder = testKit.spawn(holder(journal.ref(), timeouts.ref(), done.ref()));
  }

  /** An actor with a link to {@code journal}; it forwards the link's timeouts. */
  private static Behavior<JobCoordinator.Command> holder(
      ActorRef<JobJournal.Command> journal,
      ActorRef<JournalLink.Timeout> timeouts,
      ActorRef<String> done) {
    return Behaviors.withTimers(
        timers -> {
          JournalLink link = new JournalLink(journal, timers, SETTINGS);
          return Behaviors.receive(JobCoordinator.Command.class)
              .onMessage(
                  Act.class,
                  a -> {
                    a.action().accept(link);
                    done.tell("done");
                    return Behaviors.same();
                  })
              .onMessage(
                  JournalLink.Timeout.class,
                  t -> {
                    timeouts.tell(t);
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /** Has the link do {@code action} and waits until it did (its timers are set then). */
  private void act(Consumer<JournalLink> action) {
    holder.tell(new Act(action));
    done.expectMessage("done");
  }

  /** Lets {@code d} pass on the actor's clock; no timeout comes meanwhile. */
  private void noTimeoutFor(Duration d) {
    time.timePasses(d);
    timeouts.expectNoMessage(QUIET);
  }

  @Test
  void aCommandNotAcknowledgedInTimeTimesOutAndIsSentAgain() {
    JobJournal.Command paused = new JobJournal.RecordPaused(7, acks);
    act(link -> link.send(paused, Recorded.PAUSED));
    journal.expectMessage(paused);

    noTimeoutFor(ACK_TIMEOUT.minusMillis(1));
    time.timePasses(Duration.ofMillis(1));
    timeouts.expectMessage(new JournalLink.Timeout(Recorded.PAUSED));

    act(link -> link.resend(Recorded.PAUSED));
    journal.expectMessage(paused);
    time.timePasses(ACK_TIMEOUT);
    timeouts.expectMessage(new JournalLink.Timeout(Recorded.PAUSED));
  }

  @Test
  void anAcknowledgedCommandDoesNotTimeOut() {
    act(link -> link.send(new JobJournal.RecordPaused(7, acks), Recorded.PAUSED));
    act(link -> link.acknowledged(Recorded.PAUSED));
    noTimeoutFor(ACK_TIMEOUT.multipliedBy(2));
  }

  @Test
  void eachKindHasItsOwnTimer() {
    act(link -> link.send(new JobJournal.RecordPaused(7, acks), Recorded.PAUSED));
    act(link -> link.send(new JobJournal.RecordCancelled("cancelled", acks), Recorded.CANCELLED));
    act(link -> link.acknowledged(Recorded.PAUSED));
    time.timePasses(ACK_TIMEOUT);
    timeouts.expectMessage(new JournalLink.Timeout(Recorded.CANCELLED));
    noTimeoutFor(ACK_TIMEOUT);
  }

  @Test
  void theNewestCommandOfAKindIsTheOneSentAgainAndItsTimerStartsAgain() {
    Recovery first = Recovery.seen("deadline", "round 1: [a] late", 0, 1, 0, 1);
    Recovery second = Recovery.seen("deadline", "round 2: [b] late", 0, 2, 0, 1);
    act(link -> link.send(new JobJournal.RecordRecovery(first, acks), Recorded.RECOVERY));
    time.timePasses(ACK_TIMEOUT.minusSeconds(1));
    act(link -> link.send(new JobJournal.RecordRecovery(second, acks), Recorded.RECOVERY));
    journal.receiveSeveralMessages(2);

    noTimeoutFor(ACK_TIMEOUT.minusMillis(1));
    time.timePasses(Duration.ofMillis(1));
    timeouts.expectMessage(new JournalLink.Timeout(Recorded.RECOVERY));
    act(link -> link.resend(Recorded.RECOVERY));
    journal.expectMessage(new JobJournal.RecordRecovery(second, acks));
  }

  @Test
  void aKindNeverSentIsNotSentAgain() {
    act(link -> link.resend(Recorded.COMPLETED));
    journal.expectNoMessage(QUIET);
    noTimeoutFor(ACK_TIMEOUT.multipliedBy(2));
  }

  @Test
  void aToldCommandIsSentOnceWithoutATimer() {
    act(link -> link.tell(new JobJournal.Compact(30)));
    journal.expectMessage(new JobJournal.Compact(30));
    noTimeoutFor(ACK_TIMEOUT.multipliedBy(2));
    journal.expectNoMessage(QUIET);
  }
}
