package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.train.Recovery;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lost nodes by unique address: a new incarnation at a lost node's host:port is admitted. */
class LostNodesTest {
  private static final String B = "127.0.0.1:2552";

  @Test
  void aLostIncarnationIsNotAdmittedButTheNextOneAtTheSameAddressIs() {
    LostNodes lost = new LostNodes();
    assertTrue(lost.lost(B, 2));
    assertFalse(lost.admissible(B, 2));
    assertTrue(lost.admissible(B, 7), "a new uid at the same host:port is another node");
    assertTrue(lost.rejoined(B, 7), "and its first admission is a rejoin");
    assertFalse(lost.rejoined(B, 7), "reported once");
  }

  @Test
  void theSameLossHeardAgainIsNoNews() {
    LostNodes lost = new LostNodes();
    assertTrue(lost.lost(B, 2));
    assertFalse(lost.lost(B, 2), "downed after unreachable");
    lost.removed(B, 2);
    assertFalse(lost.lost(B, 2), "removed: a late event about it is no news");
    assertFalse(lost.admissible(B, 2), "and a removed incarnation never comes back");
  }

  @Test
  void reachableAgainIsNotALoss() {
    LostNodes lost = new LostNodes();
    lost.lost(B, 2);
    lost.back(B, 2);
    assertTrue(lost.admissible(B, 2));
    assertFalse(lost.rejoined(B, 2), "it never left: no rejoin");
  }

  @Test
  void aTakeOverAwaitsTheNodesEarlierIncarnationsLost() {
    LostNodes lost = new LostNodes();
    lost.replay(
        List.of(
            new Recovery(
                "node-unreachable",
                "127.0.0.1:2552 (uid 2) unreachable in round 9, 1" + " workers",
                0,
                1,
                1,
                2,
                0,
                0,
                0,
                1),
            new Recovery(
                "node-downed",
                "127.0.0.1:2553 (uid 3) downed in round 20, 1 workers",
                0,
                3,
                3,
                4,
                0,
                0,
                0,
                1),
            new Recovery(
                "node-rejoined",
                "127.0.0.1:2553 (a new incarnation, uid 8) is back",
                0,
                5,
                5,
                6,
                0,
                0,
                0,
                0),
            new Recovery("deadline", "round 30: [x] late", 0, 7, 7, 8, 0, 0, 0, 1)));
    assertTrue(lost.rejoined(B, 9));
    assertFalse(lost.rejoined("127.0.0.1:2553", 10), "rejoined already before the take-over");
  }

  @Test
  void hostPortOfReadsBothDetailForms() {
    assertEquals(B, LostNodes.hostPortOf("127.0.0.1:2552 (uid 2) unreachable in round 9"));
    assertEquals(B, LostNodes.hostPortOf("pekko://anvil@127.0.0.1:2552 in round 9, 1 workers"));
    assertNull(LostNodes.hostPortOf("round 30: [anvil@127.0.0.1:2552/worker-0] late"));
  }
}
