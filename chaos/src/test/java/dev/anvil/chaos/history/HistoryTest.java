package dev.anvil.chaos.history;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The progress a run's charts show: each job's rounds as they advance, replays left out. */
class HistoryTest {
  @Test
  void aRoundHeardAgainAfterARestoreIsNotSampledAgainButAnotherJobsIs() {
    History h = new History();
    h.progress("a", 10, 0.5);
    h.progress("a", 12, 0.4);
    h.progress("a", 11, 0.45); // replayed after the coordinator restored round 10
    h.progress("a", 12, 0.4);
    h.progress("b", 3, 0.9); // another job's own rounds
    h.progress("a", 13, 0.3);
    assertEquals(
        List.of(10L, 12L, 3L, 13L), h.samples().stream().map(History.Sample::round).toList());
  }
}
