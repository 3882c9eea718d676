package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.RoundState.Outcome;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import org.junit.jupiter.api.Test;

class RoundStateTest {
  private static GradientSum sum(float value) {
    return new GradientSum(new float[] {value, 2 * value}, value, 8);
  }

  @Test
  void roundCompletesWhenEveryShardIsCoveredOnce() {
    RoundState s = RoundState.start(7, 4);
    RoundState.Acceptance a = s.accept(7, new TreeNode(1, 0), sum(1));
    assertEquals(Outcome.ACCEPTED, a.outcome());
    assertFalse(a.state().complete());
    a = a.state().accept(7, TreeNode.leaf(2), sum(2));
    a = a.state().accept(7, TreeNode.leaf(3), sum(3));
    assertEquals(Outcome.ACCEPTED, a.outcome());
    assertTrue(a.state().complete());
    GradientSum total = a.state().reduce(new ReductionTree(4));
    assertArrayEquals(new float[] {1 + (2f + 3f), 2 + (4f + 6f)}, total.grad());
    assertEquals(24, total.samples());
  }

  @Test
  void resultOfAnotherRoundIsStaleAndIgnored() {
    RoundState s = RoundState.start(7, 4);
    RoundState.Acceptance older = s.accept(6, new TreeNode(2, 0), sum(1));
    assertEquals(Outcome.STALE, older.outcome());
    assertSame(s, older.state());
    assertEquals(Outcome.STALE, s.accept(8, new TreeNode(2, 0), sum(1)).outcome());
  }

  @Test
  void duplicateResultIsIgnoredAndTheFirstWins() {
    RoundState s = RoundState.start(1, 4).accept(1, TreeNode.leaf(0), sum(1)).state();
    RoundState.Acceptance again = s.accept(1, TreeNode.leaf(0), sum(9));
    assertEquals(Outcome.DUPLICATE, again.outcome());
    assertSame(s, again.state());
    RoundState.Acceptance overlapping = s.accept(1, new TreeNode(1, 0), sum(9));
    assertEquals(Outcome.DUPLICATE, overlapping.outcome());
    RoundState done =
        s.accept(1, TreeNode.leaf(1), sum(2)).state().accept(1, new TreeNode(1, 1), sum(3)).state();
    assertEquals(1f + 2f + 3f, done.reduce(new ReductionTree(4)).grad()[0]);
  }

  @Test
  void nodeOutsideTheTreeIsInvalid() {
    RoundState s = RoundState.start(1, 4);
    assertEquals(Outcome.INVALID, s.accept(1, TreeNode.leaf(4), sum(1)).outcome());
    assertEquals(Outcome.INVALID, s.accept(1, new TreeNode(-1, 0), sum(1)).outcome());
  }

  @Test
  void incompleteRoundCannotBeReduced() {
    RoundState s = RoundState.start(1, 4).accept(1, TreeNode.leaf(0), sum(1)).state();
    assertThrows(IllegalStateException.class, () -> s.reduce(new ReductionTree(4)));
  }
}
