package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A round's deadline: a multiple of the typical round time, a floor, doubled at each miss. */
class DeadlinesTest {
  private static final long MS = 1_000_000;

  private final Deadlines deadlines = new Deadlines(Duration.ofMillis(50), 5);

  @Test
  void noDeadlineUntilARoundWasTimed() {
    assertFalse(deadlines.armed());
    deadlines.roundTook(30 * MS);
    assertTrue(deadlines.armed());
  }

  @Test
  void theDeadlineIsTheMultipleOfTheTypicalRoundTime() {
    deadlines.roundTook(20 * MS);
    assertEquals(Duration.ofMillis(100), deadlines.deadline(1));
  }

  @Test
  void fastRoundsGetTheMinimum() {
    deadlines.roundTook(MS);
    assertEquals(Duration.ofMillis(50), deadlines.deadline(1));
    assertEquals(Duration.ofMillis(100), deadlines.deadline(2), "the floor doubles too");
  }

  @Test
  void theTypicalRoundTimeIsAWeightedMeanOfRecentRounds() {
    deadlines.roundTook(20 * MS);
    deadlines.roundTook(120 * MS);
    assertEquals(Duration.ofMillis(150), deadlines.deadline(1), "5 x (0.9 x 20 + 0.1 x 120)");
  }

  @Test
  void eachMissOfTheSameRoundDoublesItsDeadlineUpToTenTimes() {
    deadlines.roundTook(20 * MS);
    assertEquals(Duration.ofMillis(200), deadlines.deadline(2));
    assertEquals(Duration.ofMillis(400), deadlines.deadline(3));
    assertEquals(Duration.ofMillis(100 << 10), deadlines.deadline(11));
    assertEquals(Duration.ofMillis(100 << 10), deadlines.deadline(12), "capped at 2^10");
    assertEquals(Duration.ofMillis(100 << 10), deadlines.deadline(1000));
  }
}
