package dev.anvil.chaos.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FaultsTest {
  @Test
  void targetsFollowTheirNames() {
    for (long seed = 0; seed < 50; seed++) {
      SplittableRandom r = new SplittableRandom(seed);
      List<Integer> worker = Faults.targets("worker", 5, 2, r);
      assertEquals(1, worker.size());
      assertTrue(worker.get(0) != 2, "a worker target never hosts the coordinator");
      List<Integer> minority = Faults.targets("minority", 5, 2, r);
      assertEquals(2, minority.size());
      assertFalse(minority.contains(2));
      assertEquals(2, new HashSet<>(minority).size());
      List<Integer> majority = Faults.targets("majority", 5, 2, r);
      assertEquals(3, majority.size());
      assertEquals(2, majority.get(0));
      assertEquals(3, new HashSet<>(majority).size());
      int random = Faults.targets("random", 5, 2, r).get(0);
      assertTrue(random >= 0 && random < 5);
    }
    assertEquals(List.of(2), Faults.targets("coordinator", 5, 2, new SplittableRandom(1)));
    assertEquals(List.of(3), Faults.targets("node-4", 5, 2, new SplittableRandom(1)));
    assertEquals(List.of(0, 1, 2), Faults.targets("all", 3, -1, new SplittableRandom(1)));
    assertEquals(1, Faults.targets("minority", 3, 0, new SplittableRandom(1)).size());
    assertThrows(
        IllegalStateException.class,
        () -> Faults.targets("coordinator", 3, -1, new SplittableRandom(1)));
  }

  @Test
  void theSameSeedPicksTheSameTargets() {
    for (String t : List.of("random", "worker", "minority", "majority")) {
      assertEquals(
          Faults.targets(t, 7, 3, new SplittableRandom(42)),
          Faults.targets(t, 7, 3, new SplittableRandom(42)),
          t);
    }
  }
}
