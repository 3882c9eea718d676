package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.train.TreeNode;
import org.junit.jupiter.api.Test;

class DispatchesTest {
  @Test
  void onlyTheWorkerSentANodeInThisRoundIsExpectedToAnswerForIt() {
    Dispatches d = new Dispatches();
    d.newRound(7);
    d.sent("n1/worker-0", new TreeNode[] {new TreeNode(2, 0)});
    d.sent("n2/worker-0", new TreeNode[] {new TreeNode(2, 1)});
    d.sent("n2/worker-0", new TreeNode[] {new TreeNode(2, 0)}); // re-dispatched
    assertTrue(d.expected(7, "n1/worker-0", new TreeNode(2, 0)));
    assertTrue(d.expected(7, "n2/worker-0", new TreeNode(2, 0)));
    assertFalse(d.expected(7, "n1/worker-0", new TreeNode(2, 1)), "not sent to n1");
    assertFalse(d.expected(7, "rogue/worker-0", new TreeNode(2, 0)), "never sent work");
    assertFalse(d.expected(6, "n1/worker-0", new TreeNode(2, 0)), "another round");
    d.newRound(8);
    assertFalse(d.expected(8, "n1/worker-0", new TreeNode(2, 0)), "last round's dispatch");
  }
}
