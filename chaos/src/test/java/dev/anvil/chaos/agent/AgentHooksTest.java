package dev.anvil.chaos.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.fault.FaultHooks.Delivery;
import org.junit.jupiter.api.Test;

class AgentHooksTest {
  @Test
  void withoutFaultsEverythingPassesUntouched() {
    AgentHooks hooks = new AgentHooks();
    float[] g = {1f, 2f};
    assertEquals(Delivery.DELIVER, hooks.delivery("j", 5, "w"));
    assertSame(g, hooks.gradient("j", 5, "w", g));
    assertEquals(0, hooks.stallMillis("j", 5, "w"));
    assertEquals(0, hooks.checkpointStallMillis("j", 5));
  }

  @Test
  void dropsFollowTheFractionAndReplayAlike() {
    AgentHooks a = new AgentHooks();
    a.set(NodeFaults.NONE.withDrops(0.25).withSeed(9));
    AgentHooks b = new AgentHooks();
    b.set(NodeFaults.NONE.withDrops(0.25).withSeed(9));
    int dropped = 0;
    for (long round = 0; round < 4000; round++) {
      Delivery d = a.delivery("j", round, "w-1");
      assertEquals(d, b.delivery("j", round, "w-1"));
      if (d == Delivery.DROP) {
        dropped++;
      }
    }
    assertTrue(dropped > 850 && dropped < 1150, "dropped " + dropped + " of 4000");
    b.set(NodeFaults.NONE.withDrops(0.25).withSeed(10));
    int differ = 0;
    for (long round = 0; round < 200; round++) {
      if (a.delivery("j", round, "w-1") != b.delivery("j", round, "w-1")) {
        differ++;
      }
    }
    assertNotEquals(0, differ);
  }

  @Test
  void badGradientsOfEachKind() {
    AgentHooks hooks = new AgentHooks();
    float[] g = {1f, 2f, 3f};
    hooks.set(NodeFaults.NONE.withBadGradients("nan", 1));
    assertTrue(Float.isNaN(hooks.gradient("j", 4, "w", g)[1]));
    hooks.set(NodeFaults.NONE.withBadGradients("inf", 1));
    assertEquals(Float.POSITIVE_INFINITY, hooks.gradient("j", 4, "w", g)[1]);
    hooks.set(NodeFaults.NONE.withBadGradients("wrong-length", 1));
    assertEquals(2, hooks.gradient("j", 4, "w", g).length);
    hooks.set(NodeFaults.NONE.withBadGradients("flip", 1));
    float[] flipped = hooks.gradient("j", 4, "w", g);
    assertEquals(Float.floatToRawIntBits(2f) ^ 1, Float.floatToRawIntBits(flipped[1]));
    assertArrayEquals(new float[] {1f, 2f, 3f}, g); // the computed sum is never modified
  }

  @Test
  void badSettingsAreRefusedByName() {
    String e =
        assertThrows(IllegalArgumentException.class, () -> NodeFaults.NONE.withDrops(1.5))
            .getMessage();
    assertEquals("drop fraction = 1.5: must be in [0, 1]", e);
    String k =
        assertThrows(
                IllegalArgumentException.class, () -> NodeFaults.NONE.withBadGradients("zero", 1))
            .getMessage();
    assertTrue(k.startsWith("bad gradient kind = zero"), k);
  }
}
