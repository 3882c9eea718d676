package dev.anvil.runtime.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.Event;
import dev.anvil.coordinator.JobJournal.JobCompleted;
import dev.anvil.coordinator.JobJournal.JobSubmitted;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The journal checker on hand-made histories: each defect it looks for, and a clean one. */
class JournalCheckTest {
  private static RoundCommitted round(long r, long epoch) {
    return new RoundCommitted(r, 0.1, 8, r, epoch);
  }

  private static List<Event> clean() {
    List<Event> e =
        new ArrayList<>(
            List.of(
                new JobSubmitted("job { }", 2),
                new CoordinatorStarted(1, "a", 0, 0),
                round(1, 1),
                round(2, 1),
                new CoordinatorStarted(2, "b", 0, 0),
                round(3, 2),
                new JobCompleted("{}", 2)));
    return e;
  }

  @Test
  void aCleanHistoryPasses() {
    JournalCheck.Report r = JournalCheck.of("j", clean());
    assertTrue(r.exactlyOnce(3), r::toString);
    assertEquals(2, r.epochs());
    assertTrue(r.completed());
  }

  @Test
  void duplicatesGapsAndZombieWritesAreFound() {
    List<Event> dup = clean();
    dup.add(5, round(2, 1));
    JournalCheck.Report d = JournalCheck.of("j", dup);
    assertEquals(List.of(2L), d.duplicated());
    assertEquals(1, d.singleWriterViolations(), "epoch 1 wrote after epoch 2 started");
    assertFalse(d.exactlyOnce(3));

    List<Event> gap = clean();
    gap.remove(3); // round 2
    JournalCheck.Report g = JournalCheck.of("j", gap);
    assertEquals(List.of(2L), g.missing());
    assertEquals(1, g.outOfOrder());
    assertFalse(g.exactlyOnce(3));

    List<Event> stale = clean();
    stale.add(new CoordinatorStarted(2, "c", 0, 0));
    assertEquals(1, JournalCheck.of("j", stale).singleWriterViolations(), "an epoch started twice");
    assertFalse(JournalCheck.of("j", clean()).exactlyOnce(4), "round 4 never committed");
  }

  @Test
  void aCompactedJournalIsCheckedFromItsOldestRound() {
    var summary =
        new dev.anvil.coordinator.JournalState(
            "job { }", 2, 1, 4, 0.1, 4, List.of(), List.of(), false, 0, null, null, 0);
    List<Event> compacted =
        new ArrayList<>(
            List.of(
                round(4, 1),
                round(5, 1),
                new dev.anvil.coordinator.JobJournal.JournalCompacted(summary, 6, 1),
                round(6, 1),
                new JobCompleted("{}", 1)));
    JournalCheck.Report r = JournalCheck.of("j", compacted);
    assertTrue(r.compacted());
    assertEquals(4, r.firstRound());
    assertTrue(r.exactlyOnce(6), r::toString);

    compacted.remove(1); // round 5
    JournalCheck.Report gap = JournalCheck.of("j", compacted);
    assertEquals(List.of(5L), gap.missing());
    assertFalse(gap.exactlyOnce(6));
  }
}
