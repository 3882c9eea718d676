package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.data.Digests;
import dev.anvil.core.random.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ReductionTreeTest {

  private static float[][] leaves(int n, int length, long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    float[][] out = new float[n][length];
    for (float[] leaf : out) {
      for (int i = 0; i < length; i++) {
        // Mixed magnitudes make float addition order-sensitive, so a wrong order shows.
        leaf[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(8) - 4));
      }
    }
    return out;
  }

  private static GradientSum leafSum(float[][] leaves, int shard) {
    return new GradientSum(leaves[shard].clone(), shard, 1);
  }

  /** Root sum when the shards are split among workers as {@code plan} says. */
  private static GradientSum reduceWithPlan(
      ReductionTree tree, float[][] leaves, List<List<TreeNode>> plan) {
    TreeMap<TreeNode, GradientSum> sums = new TreeMap<>();
    for (List<TreeNode> worker : plan) {
      for (TreeNode node : worker) {
        sums.put(
            node,
            tree.reduce(node, n -> n.level() == 0 ? leafSum(leaves, n.index()) : null, g -> {}));
      }
    }
    return tree.reduce(tree.root(), sums::get, g -> {});
  }

  @Test
  void coverIsExactDisjointAndMinimalForEveryRange() {
    for (int leaves = 1; leaves <= 33; leaves++) {
      ReductionTree tree = new ReductionTree(leaves);
      for (int from = 0; from <= leaves; from++) {
        for (int to = from; to <= leaves; to++) {
          List<TreeNode> cover = tree.cover(from, to);
          int next = from;
          for (TreeNode node : cover) {
            assertEquals(next, node.from(), () -> "gap or overlap in " + cover);
            next = node.to(leaves);
            TreeNode parent = new TreeNode(node.level() + 1, node.index() / 2);
            boolean parentInside =
                parent.from() >= from
                    && parent.to(leaves) <= to
                    && parent.level() <= tree.root().level();
            assertTrue(!parentInside, () -> "not minimal: " + cover);
          }
          assertEquals(to, next);
        }
      }
    }
  }

  @Test
  void everyWorkerCountGivesTheSameBits() {
    for (int leaves : new int[] {1, 2, 3, 5, 6, 7, 8, 13, 16, 24}) {
      ReductionTree tree = new ReductionTree(leaves);
      float[][] values = leaves(leaves, 257, leaves);
      String reference =
          Digests.sha256(reduceWithPlan(tree, values, List.of(List.of(tree.root()))).grad());
      for (int workers = 1; workers <= leaves + 2; workers++) {
        GradientSum sum = reduceWithPlan(tree, values, BlockPlan.balanced(tree, workers));
        assertEquals(reference, Digests.sha256(sum.grad()), "L=" + leaves + " W=" + workers);
        assertEquals(leaves, sum.samples());
      }
    }
  }

  @Test
  void arbitraryAssignmentsOfLeavesGiveTheSameBits() {
    ReductionTree tree = new ReductionTree(16);
    float[][] values = leaves(16, 1000, 99);
    String reference =
        Digests.sha256(reduceWithPlan(tree, values, BlockPlan.balanced(tree, 1)).grad());
    SplitMix64 rng = new SplitMix64(5);
    for (int trial = 0; trial < 50; trial++) {
      List<List<TreeNode>> plan = new ArrayList<>();
      int from = 0;
      while (from < 16) {
        int to = from + 1 + rng.nextInt(16 - from);
        plan.add(tree.cover(from, to));
        from = to;
      }
      assertEquals(
          reference, Digests.sha256(reduceWithPlan(tree, values, plan).grad()), plan.toString());
    }
  }

  @Test
  void treeOrderDiffersFromArrivalOrderSoTheTestsAboveCanFail() {
    float[][] values = leaves(16, 1000, 99);
    float[] sequential = new float[1000];
    for (float[] leaf : values) {
      for (int i = 0; i < sequential.length; i++) {
        sequential[i] += leaf[i];
      }
    }
    ReductionTree tree = new ReductionTree(16);
    float[] treeSum = reduceWithPlan(tree, values, BlockPlan.balanced(tree, 1)).grad();
    assertNotEquals(Digests.sha256(sequential), Digests.sha256(treeSum));
  }

  @Test
  void nodeWithoutRightChildIsItsLeftChild() {
    ReductionTree tree = new ReductionTree(5);
    float[][] values = leaves(5, 3, 1);
    float[] expected = new float[3];
    for (int i = 0; i < 3; i++) {
      expected[i] = ((values[0][i] + values[1][i]) + (values[2][i] + values[3][i])) + values[4][i];
    }
    assertArrayEquals(expected, reduceWithPlan(tree, values, List.of(List.of(tree.root()))).grad());
  }
}
