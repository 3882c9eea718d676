package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class AssignmentTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void workersAreChosenInPathOrderAndKeepTheirBlocks() {
    ActorRef<String> c = testKit.<String>createTestProbe("c").ref();
    ActorRef<String> a = testKit.<String>createTestProbe("a").ref();
    ActorRef<String> b = testKit.<String>createTestProbe("b").ref();
    List<ActorRef<String>> chosen = Assignment.choose(Set.of(c, a, b), 2);
    assertEquals(List.of(a, b), chosen);
    assertEquals(chosen, Assignment.choose(Set.of(b, c, a), 2), "stable whatever the set order");

    Assignment plan = Assignment.of(new ReductionTree(16), List.of(a, b, c));
    assertArrayEquals(new TreeNode[] {new TreeNode(2, 0), TreeNode.leaf(4)}, plan.nodesOf(a));
    assertArrayEquals(
        new TreeNode[] {TreeNode.leaf(5), new TreeNode(1, 3), new TreeNode(1, 4)}, plan.nodesOf(b));
    assertArrayEquals(new TreeNode[] {new TreeNode(1, 5), new TreeNode(2, 3)}, plan.nodesOf(c));
    assertEquals(1, plan.nodes(), "all three on this test's one actor system");
  }

  @Test
  void moreWorkersThanShardsLeavesTheRestIdle() {
    TestProbe<String> p1 = testKit.createTestProbe();
    TestProbe<String> p2 = testKit.createTestProbe();
    TestProbe<String> p3 = testKit.createTestProbe();
    Assignment plan = Assignment.of(new ReductionTree(2), List.of(p1.ref(), p2.ref(), p3.ref()));
    assertEquals(1, plan.nodesOf(p1.ref()).length);
    assertEquals(1, plan.nodesOf(p2.ref()).length);
    assertEquals(0, plan.nodesOf(p3.ref()).length);
  }
}
