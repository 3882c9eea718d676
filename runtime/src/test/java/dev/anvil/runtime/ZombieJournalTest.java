package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.anvil.coordinator.JobJournal;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.coordinator.JournalCommands.Ack;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.EmbeddedDatabase;
import dev.anvil.persistence.JournalSchema;
import dev.anvil.runtime.journal.JournalCheck;
import dev.anvil.runtime.node.AnvilConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two incarnations of a job's journal on a real PostgreSQL: the old one (a zombie that does not
 * know it was replaced) tries to write after the new one recorded its epoch. The write must fail on
 * the journal's (persistence id, sequence number) key, and once the old journal has replayed it
 * must refuse to write at all. Nothing of the zombie's lands.
 */
class ZombieJournalTest {
  @TempDir Path dir;

  @Test
  void aZombieIncarnationCannotWrite() {
    try (EmbeddedDatabase database = EmbeddedDatabase.start(dir.resolve("pg"))) {
      DatabaseSettings db = database.settings(true);
      JournalSchema.createIfMissing(db);
      ActorTestKit kit =
          ActorTestKit.create(
              "zombie",
              AnvilConfig.load(
                  ConfigFactory.parseMap(
                      Map.of(
                          "anvil.persistence.url",
                          db.url(),
                          "anvil.persistence.user",
                          db.user(),
                          "anvil.persistence.password",
                          db.password(),
                          "pekko.remote.artery.canonical.port",
                          0))));
      try {
        TestProbe<Ack> probe = kit.createTestProbe(Ack.class);
        ActorRef<JobJournal.Command> old = kit.spawn(JobJournal.create("z"), "old");
        old.tell(new JobJournal.RecordSubmitted("job { }", 2, probe.ref()));
        probe.expectMessageClass(Ack.class);
        old.tell(new JobJournal.StartEpoch("old", probe.ref()));
        assertEquals(1, probe.expectMessageClass(Ack.class).epoch());
        old.tell(new JobJournal.RecordRounds(List.of(round(1)), probe.ref()));
        assertEquals(1, probe.expectMessageClass(Ack.class).lastRound());

        ActorRef<JobJournal.Command> fresh = kit.spawn(JobJournal.create("z"), "new");
        fresh.tell(new JobJournal.StartEpoch("new", probe.ref()));
        Ack started = probe.expectMessageClass(Ack.class);
        assertEquals(2, started.epoch());
        assertEquals(1, started.lastRound());

        // The zombie's write collides with the new incarnation's sequence number: no ack.
        old.tell(new JobJournal.RecordRounds(List.of(round(2)), probe.ref()));
        probe.expectNoMessage(Duration.ofSeconds(1));
        // Sent again (as the coordinator does after its ack timeout), it is refused outright.
        Ack refused = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (refused == null && System.nanoTime() < deadline) {
          old.tell(new JobJournal.RecordRounds(List.of(round(2)), probe.ref()));
          try {
            Ack a = probe.receiveMessage(Duration.ofSeconds(2));
            assertEquals(
                JobJournal.Recorded.SUPERSEDED,
                a.what(),
                "the zombie's write was acknowledged: " + a);
            refused = a;
          } catch (AssertionError noAnswerYet) {
            if (noAnswerYet.getMessage() != null
                && noAnswerYet.getMessage().contains("acknowledged")) {
              throw noAnswerYet;
            }
            // still restarting after the failed write: ask again
          }
        }
        assertTrue(refused != null, "the zombie journal never answered SUPERSEDED");
        assertEquals(2, refused.epoch());

        fresh.tell(new JobJournal.RecordRounds(List.of(round(2)), probe.ref()));
        assertEquals(2, probe.expectMessageClass(Ack.class).lastRound());

        JournalCheck.Report report = JournalCheck.check(kit.system(), db, "z");
        assertTrue(report.exactlyOnce(2), report::toString);
        assertEquals(2, report.epochs());
        assertEquals(0, report.singleWriterViolations());
      } finally {
        kit.shutdownTestKit();
      }
    }
  }

  private static RoundCommitted round(long r) {
    return new RoundCommitted(r, 0.25, 8, r, 0);
  }
}
