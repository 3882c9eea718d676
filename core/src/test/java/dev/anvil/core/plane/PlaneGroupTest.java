package dev.anvil.core.plane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.train.GradientSum;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Groups of 1 to 5 workers on 127.0.0.1 sum their tree nodes over the data plane: every member ends
 * every round with the bits the coordinator's tree reduction gives, and a member that stops or
 * leaves fails the others within the round's deadline with a message naming it.
 */
class PlaneGroupTest {

  @Test
  void slicesCoverTheVectorOnCacheLines() {
    for (int length : new int[] {0, 1, 15, 16, 17, 1000, 1_863_690}) {
      for (int workers = 1; workers <= 7; workers++) {
        Slices s = new Slices(length, workers);
        assertEquals(0, s.from(0));
        assertEquals(length, s.from(workers));
        for (int w = 0; w < workers; w++) {
          assertTrue(s.size(w) >= 0, s + " slice " + w);
          assertEquals(0, s.from(w) % Slices.ALIGN, s + " slice " + w + " starts off a line");
          assertTrue(s.size(w) <= length / workers + 2 * Slices.ALIGN, s + " slice " + w);
        }
      }
    }
  }

  @Test
  void everyMemberGetsTheTreesBitsForEveryGroupSize() throws Exception {
    int[][] shapes = {{1, 1}, {4, 2}, {6, 3}, {8, 3}, {8, 4}, {13, 5}, {7, 7}};
    for (int[] shape : shapes) {
      for (int length : new int[] {1, 37, 4099}) {
        try (PlaneCrew crew = new PlaneCrew(shape[0], shape[1], length, null)) {
          crew.open("job-" + shape[0], 7);
          assertRoundsEqualTheTree(crew, 3);
        }
      }
    }
  }

  @Test
  void anObserverGetsEveryRoundsSumWithTheTreesBits() throws Exception {
    int[][] shapes = {{4, 2}, {8, 3}, {16, 2}, {5, 4}};
    for (int[] shape : shapes) {
      try (PlaneCrew crew = new PlaneCrew(shape[0], shape[1], 4099, null);
          PlaneServer coordinator =
              PlaneServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null)) {
        crew.openObserved("observed-" + shape[0], 11, coordinator);
        Future<List<GradientSum>> seen =
            Executors.newSingleThreadExecutor()
                .submit(
                    () -> {
                      List<GradientSum> sums = new ArrayList<>();
                      for (long round = 1; round <= 3; round++) {
                        sums.add(
                            crew.observer.observeRound(
                                round,
                                new float[crew.length],
                                System.nanoTime() + Duration.ofSeconds(20).toNanos()));
                      }
                      return sums;
                    });
        assertRoundsEqualTheTree(crew, 3);
        for (long round = 1; round <= 3; round++) {
          GradientSum expected = crew.expected(crew.leaves(round));
          GradientSum got = seen.get(30, TimeUnit.SECONDS).get((int) round - 1);
          String where = shape[0] + " shards, " + shape[1] + " workers, round " + round;
          assertArrayEquals(bits(expected.grad()), bits(got.grad()), where);
          assertEquals(expected.lossSum(), got.lossSum(), 0.0, where);
          assertEquals(expected.samples(), got.samples(), where);
        }
      }
    }
  }

  @Test
  void theTestGradientsAreOrderSensitive() {
    // Without this the bitwise comparisons above would prove nothing about the order.
    try (PlaneCrew crew = new PlaneCrew(8, 3, 4099, null)) {
      float[][] leaves = crew.leaves(1);
      float[] tree = crew.expected(leaves).grad();
      float[] inOrder = new float[crew.length];
      for (float[] leaf : leaves) {
        for (int i = 0; i < inOrder.length; i++) {
          inOrder[i] += leaf[i];
        }
      }
      assertFalse(java.util.Arrays.equals(tree, inOrder));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static void assertRoundsEqualTheTree(PlaneCrew crew, int rounds) throws Exception {
    List<Future<List<GradientSum>>> results =
        crew.each(
            w -> {
              List<GradientSum> sums = new ArrayList<>();
              for (long round = 1; round <= rounds; round++) {
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                GradientSum own =
                    crew.groups
                        .get(w)
                        .allreduce(
                            round,
                            crew.own(w, crew.leaves(round)),
                            new float[crew.length],
                            deadline);
                sums.add(own);
              }
              return sums;
            });
    for (long round = 1; round <= rounds; round++) {
      GradientSum expected = crew.expected(crew.leaves(round));
      for (int w = 0; w < results.size(); w++) {
        GradientSum got = results.get(w).get(30, TimeUnit.SECONDS).get((int) round - 1);
        String where = crew.tree.leaves() + " shards, worker " + w + ", round " + round;
        assertArrayEquals(bits(expected.grad()), bits(got.grad()), where);
        assertEquals(expected.lossSum(), got.lossSum(), 0.0, where);
        assertEquals(expected.samples(), got.samples(), where);
      }
    }
  }

  static int[] bits(float[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Float.floatToRawIntBits(values[i]);
    }
    return out;
  }

  @Test
  void aMemberThatStopsSendingFailsTheOthersAtTheDeadline() throws Exception {
    try (PlaneCrew crew = new PlaneCrew(6, 3, 1000, null)) {
      crew.open("stalled", 2);
      float[][] leaves = crew.leaves(1);
      long start = System.nanoTime();
      long deadline = start + Duration.ofMillis(800).toNanos();
      List<Future<Object>> done =
          crew.each(
              w ->
                  w == 2
                      ? "silent"
                      : crew.groups
                          .get(w)
                          .allreduce(1, crew.own(w, leaves), new float[1000], deadline));
      List<String> messages = new ArrayList<>();
      for (int w = 0; w < 2; w++) {
        ExecutionException e = assertThrows(ExecutionException.class, done.get(w)::get);
        assertTrue(e.getCause() instanceof PlaneException, e::toString);
        messages.add(e.getCause().getMessage());
      }
      // The first to reach the deadline names the silent member; its failure closes its
      // connections, so the other may report that instead.
      assertTrue(
          messages.stream()
              .anyMatch(m -> m.contains("round 1: no reduce-scatter part from worker(s) [2]")),
          messages::toString);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(millis < 5_000, "the members failed after " + millis + " ms");
      PlaneException again =
          assertThrows(
              PlaneException.class,
              () ->
                  crew.groups
                      .get(0)
                      .allreduce(
                          2,
                          crew.own(0, leaves),
                          new float[1000],
                          System.nanoTime() + Duration.ofSeconds(5).toNanos()));
      assertTrue(again.getMessage().contains("epoch 2"), again.getMessage());
    }
  }

  @Test
  void aMemberThatLeavesMidRoundFailsTheOthersAtOnce() throws Exception {
    try (PlaneCrew crew = new PlaneCrew(8, 4, 100_000, null)) {
      crew.open("left", 3);
      float[][] leaves = crew.leaves(1);
      long start = System.nanoTime();
      long deadline = start + Duration.ofSeconds(30).toNanos();
      List<Future<Object>> done =
          crew.each(
              w -> {
                if (w == 3) {
                  crew.groups.get(3).close();
                  return "left";
                }
                return crew.groups
                    .get(w)
                    .allreduce(1, crew.own(w, leaves), new float[100_000], deadline);
              });
      for (int w = 0; w < 3; w++) {
        ExecutionException e =
            assertThrows(ExecutionException.class, () -> done.get(0).get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof PlaneException, e::toString);
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(millis < 10_000, "the members failed after " + millis + " ms, not at once");
    }
  }
}
