package dev.anvil.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.BitSet;
import org.junit.jupiter.api.Test;

class ShardSamplerTest {

  @Test
  void shardsPartitionTheSamplesWithSizesWithinOne() {
    ShardSampler s = new ShardSampler(42, 1003, 16, 4);
    BitSet seen = new BitSet();
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (int shard = 0; shard < 16; shard++) {
      int[] order = s.epochOrder(shard, 0);
      min = Math.min(min, order.length);
      max = Math.max(max, order.length);
      for (int i : order) {
        assertFalse(seen.get(i), "sample " + i + " in two shards");
        seen.set(i);
      }
    }
    assertEquals(1003, seen.cardinality());
    assertTrue(max - min <= 1);
    assertEquals(62 / 4, s.roundsPerEpoch());
  }

  @Test
  void aClassSortedFileStillGivesMixedShards() {
    int n = 1000;
    ShardSampler s = new ShardSampler(1, n, 10, 5);
    for (int shard = 0; shard < 10; shard++) {
      int[] classCounts = new int[10];
      for (int i : s.epochOrder(shard, 0)) {
        classCounts[i / 100]++; // samples 0..99 are class 0, and so on
      }
      assertTrue(
          Arrays.stream(classCounts).filter(c -> c > 0).count() >= 5,
          "shard " + shard + " classes " + Arrays.toString(classCounts));
    }
  }

  @Test
  void eachEpochReshufflesEachShardAndLeftoversAreSkipped() {
    ShardSampler s = new ShardSampler(3, 100, 4, 6); // 25 per shard, 4 rounds, 1 left over
    assertEquals(4, s.roundsPerEpoch());
    int[] e0 = s.epochOrder(2, 0);
    int[] e1 = s.epochOrder(2, 1);
    assertFalse(Arrays.equals(e0, e1));
    assertArrayEquals(sorted(e0), sorted(e1));
    assertArrayEquals(Arrays.copyOfRange(e0, 18, 24), s.minibatch(2, 3));
    assertArrayEquals(Arrays.copyOfRange(e1, 0, 6), s.minibatch(2, 4));
  }

  @Test
  void samplingIsAPureFunctionOfSeedAndShape() {
    ShardSampler a = new ShardSampler(9, 500, 8, 4);
    ShardSampler b = new ShardSampler(9, 500, 8, 4);
    for (long round = 0; round < 40; round += 7) {
      for (int shard = 7; shard >= 0; shard--) {
        assertArrayEquals(a.minibatch(shard, round), b.minibatch(shard, round));
      }
    }
    ShardSampler other = new ShardSampler(10, 500, 8, 4);
    assertFalse(Arrays.equals(a.minibatch(0, 0), other.minibatch(0, 0)));
  }

  @Test
  void theContractIsPinned() {
    // docs/determinism.md: changing these values changes every job's result.
    ShardSampler s = new ShardSampler(42, 60000, 16, 16);
    assertEquals(234, s.roundsPerEpoch());
    assertArrayEquals(new int[] {30734, 27292, 18770, 27653}, Arrays.copyOf(s.minibatch(0, 0), 4));
    assertArrayEquals(
        new int[] {49896, 47954, 24568, 4530}, Arrays.copyOf(s.minibatch(15, 1000), 4));
  }

  private static int[] sorted(int[] a) {
    int[] c = a.clone();
    Arrays.sort(c);
    return c;
  }
}
