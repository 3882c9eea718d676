package dev.anvil.runtime.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.runtime.launcher.Incarnations.Seen;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Counting nodes by incarnation: a dead incarnation that is still a member is not the node. */
class IncarnationsTest {
  private static final String A = "127.0.0.1:2551";
  private static final String B = "127.0.0.1:2552";
  private static final String C = "127.0.0.1:2553";

  private static Seen up(String hostPort, long uid) {
    return new Seen(hostPort, uid, "Up", true, true);
  }

  private static Incarnations three() {
    Incarnations i = new Incarnations();
    i.add(A);
    i.add(B);
    i.add(C);
    return i;
  }

  @Test
  void everyLiveIncarnationUpAndReachableCounts() {
    Incarnations i = three();
    assertEquals(3, i.countUp(List.of(up(A, 1), up(B, 2), up(C, 3))));
  }

  @Test
  void aKilledIncarnationStillUpButUnreachableIsNotCounted() {
    Incarnations i = three();
    List<Seen> killed = List.of(up(A, 1), new Seen(B, 2, "Up", true, false), up(C, 3));
    assertEquals(2, i.countUp(killed), "unreachable is not up");
    List<Seen> toDown = i.retire(1, killed);
    assertEquals(List.of(killed.get(1)), toDown, "the dead incarnation is downed");
    // The failure detector has not noticed yet: the old uid looks Up and reachable.
    assertEquals(
        2,
        i.countUp(List.of(up(A, 1), up(B, 2), up(C, 3))),
        "a retired uid is never the node, whatever its status");
    assertNull(i.current(1, List.of(up(A, 1), up(B, 2), up(C, 3))));
  }

  @Test
  void theNewIncarnationAtTheSameAddressIsTheNodeOnceStartedAgain() {
    Incarnations i = three();
    i.retire(1, List.of(up(A, 1), up(B, 2), up(C, 3)));
    i.launched(1);
    assertEquals(2, i.countUp(List.of(up(A, 1), up(B, 2), up(C, 3))), "old uid 2 is retired");
    assertEquals(
        2,
        i.countUp(List.of(up(A, 1), new Seen(B, 7, "Joining", true, true), up(C, 3))),
        "joining is not up yet");
    assertEquals(3, i.countUp(List.of(up(A, 1), up(B, 7), up(C, 3))));
    assertEquals(
        7,
        i.current(1, List.of(up(A, 1), up(B, 2), up(B, 7), up(C, 3))).uid(),
        "with both in the membership, the new uid is the node");
  }

  @Test
  void aMemberAppearingAtADeadNodesAddressBeforeItsRestartIsNotTheNode() {
    Incarnations i = three();
    i.retire(2, List.of(up(A, 1), up(B, 2))); // node 3 died before it was seen
    assertFalse(
        i.up(2, List.of(up(A, 1), up(B, 2), up(C, 3))),
        "its process is gone: nothing at its address is the node");
    List<Seen> late = i.retire(2, List.of(up(A, 1), up(B, 2), up(C, 3)));
    assertEquals(1, late.size(), "a late member of the dead process is downed too");
    i.launched(2);
    assertFalse(i.up(2, List.of(up(A, 1), up(B, 2), up(C, 3))));
    assertTrue(i.up(2, List.of(up(A, 1), up(B, 2), up(C, 4))));
  }

  @Test
  void anIncarnationIsDownedOnceAndNotWhenAlreadyOnItsWayOut() {
    Incarnations i = three();
    assertEquals(1, i.retire(0, List.of(up(A, 1))).size());
    assertEquals(0, i.retire(0, List.of(up(A, 1))).size(), "retired already: downed once");
    assertEquals(0, i.retire(1, List.of(new Seen(B, 2, "Down", true, false))).size());
    assertEquals(0, i.retire(2, List.of(new Seen(C, 3, "Exiting", true, true))).size());
  }

  @Test
  void clientsAreNeverNodes() {
    Incarnations i = three();
    assertEquals(0, i.countUp(List.of(new Seen(A, 1, "Up", false, true))));
  }
}
