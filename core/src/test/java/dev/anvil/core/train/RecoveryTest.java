package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The three spans a recovery reports, and what is 0 when a time is unknown. */
class RecoveryTest {
  @Test
  void aLostNodeReportsDetectionRecoveryAndStall() {
    // last result at 1000, seen at 1400 (re-dispatched then), last commit before at 990,
    // first durable commit after at 1450
    Recovery r = Recovery.seen("node-downed", "n", 1000, 1400, 990, 3).committedAt(1450);
    assertEquals(400, r.detectMillis());
    assertEquals(50, r.recoveryMillis());
    assertEquals(460, r.stallMillis());
    assertEquals(1400, r.redispatchedMillis());
    String json = r.toJson();
    assertTrue(
        json.contains("\"detectMillis\": 400")
            && json.contains("\"stallMillis\": 460")
            && json.contains("\"recoveryMillis\": 50")
            && json.contains("\"lastHeardMillis\": 1000"),
        json);
  }

  @Test
  void unknownTimesGiveZeroNotANegativeSpan() {
    Recovery graceful = Recovery.seen("node-left", "n", 0, 1400, 0, 0);
    assertEquals(0, graceful.detectMillis(), "nothing was heard last: a graceful leave");
    assertEquals(0, graceful.stallMillis(), "no commit after it yet");
    assertEquals(0, graceful.committedAt(1500).stallMillis(), "no commit before it");
  }
}
