package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.JobCancelled;
import dev.anvil.coordinator.JobJournal.JobCompleted;
import dev.anvil.coordinator.JobJournal.JobFailed;
import dev.anvil.coordinator.JobJournal.JobImported;
import dev.anvil.coordinator.JobJournal.JobPaused;
import dev.anvil.coordinator.JobJournal.JobResumed;
import dev.anvil.coordinator.JobJournal.JobSubmitted;
import dev.anvil.coordinator.JobJournal.JournalCompacted;
import dev.anvil.coordinator.JobJournal.RecoveryRecorded;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.core.train.Recovery;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The journal's state record: each copy method changes exactly its own fields, and each event type
 * changes exactly what it records.
 */
class JournalStateTest {
  static final Recovery RECOVERY = new Recovery("deadline", "round 7", 0, 10, 20, 30, 5, 0, 0, 1);

  static CheckpointCommitted checkpoint(long round) {
    return new CheckpointCommitted(round, "postgres:anvil_checkpoint/j/" + round, "ab", 100, 1);
  }

  /** A state with every field set to a value no copy method below sets. */
  static JournalState sample() {
    return new JournalState(
        "job { }",
        4,
        3,
        40,
        0.75,
        1_000,
        List.of(RECOVERY),
        List.of(checkpoint(30)),
        false,
        0,
        null,
        null,
        500);
  }

  /** The names of the components in which {@code a} and {@code b} differ, sorted. */
  static Set<String> changed(JournalState a, JournalState b) throws ReflectiveOperationException {
    Set<String> names = new TreeSet<>();
    for (RecordComponent c : JournalState.class.getRecordComponents()) {
      if (!Objects.equals(c.getAccessor().invoke(a), c.getAccessor().invoke(b))) {
        names.add(c.getName());
      }
    }
    return names;
  }

  @Test
  void eachCopyMethodChangesOnlyItsOwnFields() throws ReflectiveOperationException {
    JournalState s = sample();
    assertEquals(Set.of("spec", "workers"), changed(s, s.withJob("job { b }", 5)));
    assertEquals(Set.of("epoch"), changed(s, s.withEpoch(4)));
    assertEquals(
        Set.of("lastLoss", "lastRound", "lastRoundMillis"),
        changed(s, s.withLastRound(41, 0.5, 2_000)));
    assertEquals(Set.of("recoveries"), changed(s, s.withRecoveries(List.of())));
    assertEquals(Set.of("recoveries"), changed(s, s.withRecovery(RECOVERY)));
    assertEquals(Set.of("checkpoints"), changed(s, s.withCheckpoint(checkpoint(40))));
    assertEquals(Set.of("paused"), changed(s, s.withPaused(true)));
    assertEquals(Set.of("importedAt"), changed(s, s.withImportedAt(40)));
    assertEquals(Set.of("result"), changed(s, s.withResult("{}")));
    assertEquals(Set.of("failure"), changed(s, s.withFailure("diverged")));
    assertEquals(Set.of("startedMillis"), changed(s, s.withStartedMillis(600)));
    assertEquals(Set.of("epochStarts"), changed(s, s.withEpochStart(7)));
    assertEquals(Set.of("epochStarts"), changed(s, s.withEpochStarts(Set.of(7L))));
  }

  @Test
  void copyMethodsSetTheGivenValues() {
    JournalState s =
        sample()
            .withJob("job { b }", 5)
            .withEpoch(4)
            .withLastRound(41, 0.5, 2_000)
            .withPaused(true)
            .withImportedAt(40)
            .withResult("{}")
            .withFailure("diverged")
            .withStartedMillis(600);
    assertEquals(
        new JournalState(
            "job { b }",
            5,
            4,
            41,
            0.5,
            2_000,
            List.of(RECOVERY),
            List.of(checkpoint(30)),
            true,
            40,
            "{}",
            "diverged",
            600),
        s);
  }

  @Test
  void copyMethodsLeaveTheOriginalAsItWas() {
    JournalState s = sample();
    s.withEpoch(9).withRecovery(RECOVERY).withCheckpoint(checkpoint(40)).withPaused(true);
    assertEquals(sample(), s);
  }

  @Test
  void aRecoveryGoesAfterTheOthersAndTheListIsTheStatesOwn() {
    List<Recovery> mine = new ArrayList<>(List.of(RECOVERY));
    JournalState s = sample().withRecoveries(mine);
    mine.clear();
    assertEquals(List.of(RECOVERY), s.recoveries(), "a copy, not the caller's list");
    Recovery later = new Recovery("node-left", "w2", 0, 40, 50, 60, 35, 0, 0, 1);
    assertEquals(List.of(RECOVERY, later), s.withRecovery(later).recoveries());
  }

  @Test
  void onlyTheNewestCheckpointsAreKeptNewestLast() {
    JournalState s = JournalState.EMPTY;
    for (long round = 1; round <= JournalState.CHECKPOINT_REFS + 2; round++) {
      s = s.withCheckpoint(checkpoint(round));
    }
    assertEquals(
        LongStream.rangeClosed(3, JournalState.CHECKPOINT_REFS + 2).boxed().toList(),
        s.checkpoints().stream().map(CheckpointCommitted::round).toList());
    assertEquals(JournalState.CHECKPOINT_REFS + 2, s.newestCheckpoint().round());
  }

  @Test
  void emptyIsAJobNeverSubmitted() {
    assertFalse(JournalState.EMPTY.submitted());
    assertFalse(JournalState.EMPTY.finished());
    assertNull(JournalState.EMPTY.newestCheckpoint());
    assertTrue(JournalState.EMPTY.withJob("job { }", 1).submitted());
  }

  /** The fields each event type changes in {@link #sample()} at epoch 1, paused. */
  static final Map<Class<?>, Set<String>> CHANGES =
      Map.ofEntries(
          Map.entry(JobSubmitted.class, Set.of("spec", "workers")),
          Map.entry(
              JobImported.class,
              Set.of("spec", "workers", "lastRound", "lastLoss", "lastRoundMillis", "importedAt")),
          Map.entry(CoordinatorStarted.class, Set.of("epoch", "epochStarts")),
          Map.entry(RoundCommitted.class, Set.of("lastRound", "lastLoss", "lastRoundMillis")),
          Map.entry(RecoveryRecorded.class, Set.of("recoveries")),
          Map.entry(CheckpointCommitted.class, Set.of("checkpoints")),
          Map.entry(JobPaused.class, Set.of()),
          Map.entry(JobResumed.class, Set.of("paused")),
          Map.entry(JobCancelled.class, Set.of("paused", "failure")),
          Map.entry(JobCompleted.class, Set.of("paused", "result")),
          Map.entry(JobFailed.class, Set.of("paused", "failure")),
          Map.entry(
              JournalCompacted.class,
              Set.of(
                  "spec",
                  "workers",
                  "epoch",
                  "lastRound",
                  "lastLoss",
                  "lastRoundMillis",
                  "recoveries",
                  "checkpoints",
                  "paused",
                  "startedMillis")));

  /**
   * Every event type changes exactly the fields it records, each applied to the same state (the
   * golden fixtures' values): in particular none but a failure and a cancel sets {@code failure}. A
   * new event type must be added here.
   */
  @Test
  void everyEventTypeChangesOnlyWhatItRecords() throws ReflectiveOperationException {
    assertEquals(
        Set.copyOf(Arrays.asList(Event.class.getPermittedSubclasses())),
        CHANGES.keySet(),
        "every event type has its expected change here");
    JournalState paused = sample().withEpoch(1).withPaused(true);
    for (Object event : JournalFormatTest.current().values()) {
      assertEquals(
          CHANGES.get(event.getClass()),
          changed(paused, paused.apply((Event) event)),
          event.getClass().getSimpleName());
    }
    assertEquals(Set.of("paused"), changed(sample(), sample().apply(new JobPaused(40, 3))));
  }

  @Test
  void eventsChangeTheStateToTheirValues() {
    JournalState s =
        JournalState.EMPTY
            .apply(new JobSubmitted("job { }", 2))
            .apply(new CoordinatorStarted(1, "n", 900, 2))
            .apply(new RoundCommitted(1, 0.5, 64, 1_000, 1))
            .apply(new CheckpointCommitted(1, "here", "ab", 10, 1))
            .apply(new RecoveryRecorded(RECOVERY, 1))
            .apply(new CoordinatorStarted(2, "m", 2_000, 7))
            .apply(new JobPaused(1, 2))
            .apply(new JobCompleted("{}", 2));
    assertEquals(
        new JournalState(
            "job { }",
            2,
            2,
            1,
            0.5,
            1_000,
            List.of(RECOVERY),
            List.of(new CheckpointCommitted(1, "here", "ab", 10, 1)),
            false,
            0,
            "{}",
            null,
            900,
            Set.of(2L, 7L)),
        s);
  }

  @Test
  void anOlderRoundAndAnOlderEpochChangeNothing() {
    JournalState s = sample();
    assertEquals(s, s.apply(new RoundCommitted(40, 0.1, 64, 9, 3)));
    assertEquals(
        s.withEpochStart(5),
        s.apply(new CoordinatorStarted(2, "n", 9, 5)),
        "an older epoch's start is still a row to keep");
    assertEquals(
        s,
        s.apply(new CoordinatorStarted(2, "n", 9, 0)),
        "an epoch start of unknown sequence number (format version 1) names no row");
  }

  @Test
  void aSummaryReplacesTheStateButNotItsEpochStarts() {
    JournalState summarized = sample().withEpochStarts(Set.of(2L));
    JournalCompacted compacted = new JournalCompacted(summarized, 8, 3);
    assertEquals(sample(), compacted.summary(), "as stored: without epoch starts");
    JournalState replayed = JournalState.EMPTY.withEpochStarts(Set.of(2L, 5L));
    assertEquals(sample().withEpochStarts(Set.of(2L, 5L)), replayed.apply(compacted));
  }
}
