package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import dev.anvil.persistence.DatabaseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The in-memory checkpoint repository that coordinator tests use in place of the database. */
class InMemoryCheckpointRepositoryTest {
  private final InMemoryCheckpointRepository repository = new InMemoryCheckpointRepository();

  private static byte[] bytes(int seed) {
    byte[] b = new byte[64];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (seed * 31 + i);
    }
    return b;
  }

  private void store(String job, long round) {
    byte[] b = bytes((int) round);
    repository.write(job, round, b, CheckpointFormat.checksum(b));
  }

  @Test
  void aCheckpointReadsBackAsWrittenAndTheStoredBytesAreACopy() {
    byte[] written = bytes(1);
    var stored = repository.write("a", 5, written, "sum");
    assertEquals(
        new dev.anvil.persistence.CheckpointStore.Stored("a", 5, "sum", 64, "memory:a/5"), stored);
    written[0]++;
    byte[] read = repository.read("a", 5);
    assertArrayEquals(bytes(1), read, "changing the written array changes nothing stored");
    read[0]++;
    assertArrayEquals(bytes(1), repository.read("a", 5), "nor does changing a read one");
    assertEquals("sum", repository.checksum("a", 5));
    assertNull(repository.read("a", 6));
    assertNull(repository.read("b", 5), "jobs are apart");
  }

  @Test
  void aLaterWriteOfARoundReplacesIt() {
    repository.write("a", 5, bytes(1), "one");
    repository.write("a", 5, bytes(2), "two");
    assertArrayEquals(bytes(2), repository.read("a", 5));
    assertEquals("two", repository.checksum("a", 5));
    assertEquals(Set.of(5L), repository.rounds("a"));
  }

  @Test
  void deleteBeforeKeepsThatRoundAndNewerOnes() {
    LongStream.of(2, 4, 6, 8).forEach(r -> store("a", r));
    store("b", 2);
    assertEquals(2, repository.deleteBefore("a", 6));
    assertEquals(List.of(6L, 8L), List.copyOf(repository.rounds("a")));
    assertEquals(Set.of(2L), repository.rounds("b"), "other jobs' checkpoints stay");
    assertEquals(0, repository.deleteBefore("a", 6));
  }

  @Test
  void theNextWritesFailAsManyAsAskedAndStoreNothing() {
    repository.failNextWrites(2);
    DatabaseException first = assertThrows(DatabaseException.class, () -> store("a", 1));
    assertTrue(first.getMessage().contains("round 1 of job a"), first.getMessage());
    assertThrows(DatabaseException.class, () -> store("a", 2));
    store("a", 3);
    assertEquals(Set.of(3L), repository.rounds("a"));
    assertEquals(1, repository.writes());
  }

  @Test
  void aCorruptCheckpointNoLongerMatchesItsChecksumAndARemovedOneIsGone() {
    store("a", 1);
    store("a", 2);
    repository.corrupt("a", 1);
    byte[] corrupt = repository.read("a", 1);
    assertNotEquals(repository.checksum("a", 1), CheckpointFormat.checksum(corrupt));
    assertEquals(bytes(1).length, corrupt.length);
    repository.remove("a", 2);
    assertNull(repository.read("a", 2));
    assertThrows(IllegalArgumentException.class, () -> repository.corrupt("a", 2));
    assertThrows(IllegalArgumentException.class, () -> repository.remove("a", 7));
  }

  @Test
  void gradientsReadBackInRoundOrderWithoutGapsFillingIn() {
    repository.writeGradients("a", List.of(gradient(3), gradient(1), gradient(2), gradient(5)));
    List<RoundGradient> read = repository.readGradients("a", 2, 5);
    assertEquals(List.of(2L, 3L, 5L), read.stream().map(RoundGradient::round).toList());
    assertArrayEquals(gradient(3).gradient(), read.get(1).gradient());
    assertEquals(List.of(), repository.readGradients("a", 6, 5));
    assertEquals(2, repository.deleteGradientsThrough("a", 2));
    assertEquals(List.of(3L, 5L), List.copyOf(repository.gradientRounds("a")));
    repository.close();
    assertEquals(
        List.of(3L, 5L),
        List.copyOf(repository.gradientRounds("a")),
        "closing keeps the contents, as a database does");
  }

  private static RoundGradient gradient(long round) {
    return new RoundGradient(round, new float[] {round, -round}, round * 0.5, 8);
  }

  @Test
  void concurrentWritersAllLand() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long first = t * 100L;
        done.add(
            pool.submit(() -> LongStream.range(first, first + 100).forEach(r -> store("a", r))));
      }
      for (Future<?> f : done) {
        f.get(10, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(400, repository.rounds("a").size());
    assertEquals(400, repository.writes());
  }
}
