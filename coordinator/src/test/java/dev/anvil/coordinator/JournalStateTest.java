package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.core.train.Recovery;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The journal's state record: each copy method changes exactly its own fields. */
class JournalStateTest {
  static final Recovery RECOVERY = new Recovery("deadline", "round 7", 0, 10, 20, 30, 5, 0, 0,
      1);

  static CheckpointCommitted checkpoint(long round) {
    return new CheckpointCommitted(round, "postgres:anvil_checkpoint/j/" + round, "ab", 100, 1);
  }

  /** A state with every field set to a value no copy method below sets. */
  static JournalState sample() {
    return new JournalState("job { }", 2, 3, 40, 0.25, 1_000, List.of(RECOVERY),
        List.of(checkpoint(30)), false, 0, null, null, 500);
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
    assertEquals(Set.of("lastLoss", "lastRound", "lastRoundMillis"),
        changed(s, s.withLastRound(41, 0.5, 2_000)));
    assertEquals(Set.of("recoveries"), changed(s, s.withRecoveries(List.of())));
    assertEquals(Set.of("recoveries"), changed(s, s.withRecovery(RECOVERY)));
    assertEquals(Set.of("checkpoints"), changed(s, s.withCheckpoint(checkpoint(40))));
    assertEquals(Set.of("paused"), changed(s, s.withPaused(true)));
    assertEquals(Set.of("importedAt"), changed(s, s.withImportedAt(40)));
    assertEquals(Set.of("result"), changed(s, s.withResult("{}")));
    assertEquals(Set.of("failure"), changed(s, s.withFailure("diverged")));
    assertEquals(Set.of("startedMillis"), changed(s, s.withStartedMillis(600)));
  }

  @Test
  void copyMethodsSetTheGivenValues() {
    JournalState s = sample().withJob("job { b }", 5).withEpoch(4).withLastRound(41, 0.5, 2_000)
        .withPaused(true).withImportedAt(40).withResult("{}").withFailure("diverged")
        .withStartedMillis(600);
    assertEquals(new JournalState("job { b }", 5, 4, 41, 0.5, 2_000, List.of(RECOVERY),
        List.of(checkpoint(30)), true, 40, "{}", "diverged", 600), s);
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
    assertEquals(LongStream.rangeClosed(3, JournalState.CHECKPOINT_REFS + 2).boxed().toList(),
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
}
