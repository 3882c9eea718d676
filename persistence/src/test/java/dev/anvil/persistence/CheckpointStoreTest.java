package dev.anvil.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.checkpoint.CorruptCheckpointException;
import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.TrainingState;
import dev.anvil.persistence.CheckpointStore.Stored;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

class CheckpointStoreTest {
  @RegisterExtension static final TestDatabase database = new TestDatabase();

  private CheckpointStore store;
  private String job;

  @BeforeAll
  static void schema() {
    JournalSchema.createIfMissing(database.settings());
  }

  @BeforeEach
  void open(TestInfo test) {
    store = new CheckpointStore(database.settings());
    job = test.getTestMethod().orElseThrow().getName();
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** A real encoded checkpoint of {@code round}, its floats depending on {@code salt}. */
  private static byte[] checkpoint(String job, long round, int salt) {
    float[] params = new float[5_000];
    float[] momentum = new float[params.length];
    for (int i = 0; i < params.length; i++) {
      params[i] = (i * 31 + salt) * 1e-3f;
      momentum[i] = -params[i] / 7;
    }
    return CheckpointFormat.encode(
        new Checkpoint(
            job,
            "job { name = \"" + job + "\" }",
            2,
            "fingerprint",
            "java",
            new TrainingState(round, params, new OptimizerState(round, new float[][] {momentum})),
            0.5,
            List.of(new EpochReport(1, round, 0.5, 0.4, 0.9)),
            0.25,
            1));
  }

  private Stored write(long round, int salt) {
    byte[] bytes = checkpoint(job, round, salt);
    return store.write(job, round, bytes, CheckpointFormat.checksum(bytes));
  }

  private static <T> T query(String sql, ResultReader<T> reader) throws SQLException {
    try (Connection c = database.settings().connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      return reader.read(r);
    }
  }

  private interface ResultReader<T> {
    T read(ResultSet r) throws SQLException;
  }

  /**
   * With a directory: the bytes go to a file (the row keeps round, checksum and size, no bytes),
   * read back unchanged; a flipped bit in the file comes back flipped (the coordinator's checksum
   * check refuses it); a missing file reads as no checkpoint; old files, and a temporary file a
   * dead writer left, go with old rows; a job id cannot leave the directory.
   */
  @Test
  void checkpointFilesInADirectory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    try (CheckpointStore files = new CheckpointStore(database.settings(), dir)) {
      String odd = job + "/../x y";
      List<byte[]> written = new ArrayList<>();
      for (long round = 10; round <= 40; round += 10) {
        byte[] bytes = checkpoint(odd, round, (int) round);
        written.add(bytes);
        Stored s = files.write(odd, round, bytes, CheckpointFormat.checksum(bytes));
        java.nio.file.Path file = java.nio.file.Path.of(s.location().substring("file:".length()));
        assertTrue(file.startsWith(dir) && java.nio.file.Files.isRegularFile(file), s::location);
        assertArrayEquals(bytes, java.nio.file.Files.readAllBytes(file));
        assertEquals(bytes.length, s.size());
      }
      long rowBytes =
          query(
              "SELECT sum(octet_length(data)) FROM anvil_checkpoint WHERE job_id"
                  + " = '"
                  + odd.replace("'", "''")
                  + "'",
              r -> r.next() ? r.getLong(1) : -1);
      assertEquals(0, rowBytes, "the rows hold no checkpoint bytes");
      assertArrayEquals(written.get(2), files.read(odd, 30));
      assertEquals(
          List.of(40L, 30L, 20L, 10L), files.list(odd).stream().map(Stored::round).toList());

      java.nio.file.Path newest =
          java.nio.file.Path.of(files.list(odd).get(0).location().substring("file:".length()));
      byte[] flipped = java.nio.file.Files.readAllBytes(newest);
      flipped[flipped.length / 2] ^= 0x10;
      java.nio.file.Files.write(newest, flipped);
      byte[] back = files.read(odd, 40);
      assertNotEquals(CheckpointFormat.checksum(written.get(3)), CheckpointFormat.checksum(back));
      assertThrows(CorruptCheckpointException.class, () -> CheckpointFormat.decode(back));

      java.nio.file.Files.delete(newest);
      assertNull(files.read(odd, 40), "a missing file is no checkpoint");
      assertArrayEquals(
          written.get(0),
          new CheckpointStore(database.settings(), dir).read(odd, 10),
          "another store on the same directory reads it");
      assertNull(
          new CheckpointStore(database.settings()).read(odd, 10),
          "a store without the directory finds no bytes");

      java.nio.file.Path folder = newest.getParent();
      java.nio.file.Files.writeString(folder.resolve("15.123.tmp"), "left by a dead writer");
      java.nio.file.Files.writeString(folder.resolve("notes.txt"), "not Anvil's");
      assertEquals(2, files.deleteBefore(odd, 30));
      try (var left = java.nio.file.Files.list(folder)) {
        assertEquals(
            List.of("30.ckpt", "notes.txt"),
            left.map(f -> f.getFileName().toString()).sorted().toList());
      }
      assertEquals(List.of(40L, 30L), files.list(odd).stream().map(Stored::round).toList());
    }
  }

  @Test
  void writtenBytesReadBackUnchanged() {
    byte[] bytes = checkpoint(job, 7, 1);
    String sha = CheckpointFormat.checksum(bytes);
    Stored stored = store.write(job, 7, bytes, sha);
    assertEquals(new Stored(job, 7, sha, bytes.length), stored);
    assertEquals("postgres:anvil_checkpoint/" + job + "/7", stored.location());

    byte[] back = store.read(job, 7);
    assertArrayEquals(bytes, back);
    assertEquals(sha, CheckpointFormat.checksum(back));
    Checkpoint c = CheckpointFormat.decode(back);
    assertEquals(7, c.round());
    assertEquals(job, c.jobId());
  }

  @Test
  void listIsNewestFirstWithChecksumAndSize() {
    Stored r10 = write(10, 1);
    Stored r30 = write(30, 2);
    Stored r20 = write(20, 3);
    String other = job + "-other";
    byte[] otherBytes = checkpoint(other, 40, 4);
    store.write(other, 40, otherBytes, CheckpointFormat.checksum(otherBytes));

    List<Stored> list = store.list(job);
    assertEquals(List.of(r30, r20, r10), list);
    for (Stored s : list) {
      byte[] bytes = store.read(job, s.round());
      assertEquals(s.size(), bytes.length);
      assertEquals(s.sha256(), CheckpointFormat.checksum(bytes));
    }
    assertEquals(List.of(40L), store.list(other).stream().map(Stored::round).toList());
    assertEquals(List.of(), store.list(job + "-none"));
  }

  @Test
  void rewritingARoundReplacesIt() {
    Stored first = write(5, 1);
    Stored second = write(5, 2);
    assertNotEquals(first.sha256(), second.sha256());
    assertEquals(List.of(second), store.list(job));
    assertEquals(second.sha256(), CheckpointFormat.checksum(store.read(job, 5)));
  }

  @Test
  void deleteBeforeKeepsTheNewerRoundsAndCountsTheRest() {
    for (long round = 1; round <= 5; round++) {
      write(round, (int) round);
    }
    String other = job + "-other";
    byte[] otherBytes = checkpoint(other, 1, 0);
    store.write(other, 1, otherBytes, CheckpointFormat.checksum(otherBytes));

    assertEquals(3, store.deleteBefore(job, 4));
    assertEquals(List.of(5L, 4L), store.list(job).stream().map(Stored::round).toList());
    assertNull(store.read(job, 3));
    assertEquals(0, store.deleteBefore(job, 4));
    assertEquals(1, store.list(other).size(), "another job's rows stay");
  }

  @Test
  void aMissingRoundReadsAsNull() {
    write(2, 1);
    assertNull(store.read(job, 1));
    assertNull(store.read(job + "-none", 2));
  }

  @Test
  void bitsFlippedInTheDatabaseAreDetected() throws SQLException {
    int size = checkpoint(job, 1, 0).length;
    int[] positions = {3, 12, size / 2, size - 40, size - 1};
    for (int i = 0; i < positions.length; i++) {
      Stored stored = write(i, i);
      byte[] original = store.read(job, i);
      try (Connection c = database.settings().connect();
          PreparedStatement p =
              c.prepareStatement(
                  "UPDATE "
                      + CheckpointStore.TABLE
                      + " SET data = set_byte(data, ?, get_byte(data, ?) # 1)"
                      + " WHERE job_id = ? AND round = ?")) {
        p.setInt(1, positions[i]);
        p.setInt(2, positions[i]);
        p.setString(3, job);
        p.setLong(4, i);
        assertEquals(1, p.executeUpdate());
      }

      byte[] read = store.read(job, i);
      assertEquals(original.length, read.length);
      assertEquals(1, original[positions[i]] ^ read[positions[i]], "one bit at " + positions[i]);
      assertThrows(
          CorruptCheckpointException.class,
          () -> CheckpointFormat.decode(read),
          "flipped at " + positions[i]);
      Stored row = store.list(job).get(0);
      assertEquals(stored.sha256(), row.sha256(), "the row's checksum is the original's");
      assertNotEquals(row.sha256(), CheckpointFormat.checksum(read));
    }
  }

  /**
   * Kills every other client's connection to the database; returns the pids it killed (a backend
   * that ended by itself between the listing and the kill is not counted).
   */
  private static List<Integer> killOtherConnections() throws SQLException {
    return query(
        "SELECT pid, pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            + " AND backend_type = 'client backend'",
        r -> {
          List<Integer> pids = new ArrayList<>();
          while (r.next()) {
            if (r.getBoolean(2)) { // false: it was already exiting (an earlier test's store)
              pids.add(r.getInt(1));
            }
          }
          return pids;
        });
  }

  private static List<Integer> otherConnections() throws SQLException {
    return query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            + " AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        r -> {
          List<Integer> pids = new ArrayList<>();
          while (r.next()) {
            pids.add(r.getInt(1));
          }
          return pids;
        });
  }

  @Test
  void gradientsAreStoredBitForBitInRoundOrderAndDeletedUpToARound() {
    float[] odd = {Float.intBitsToFloat(0x7FC00001), -0.0f, Float.MIN_VALUE, 1e30f};
    List<CheckpointStore.RoundGradient> rounds = new ArrayList<>();
    for (long r = 1; r <= 5; r++) {
      float[] g = odd.clone();
      g[3] = r;
      rounds.add(new CheckpointStore.RoundGradient(r, g, r * 0.5, 64 * r));
    }
    store.writeGradients(job, rounds.subList(0, 3));
    store.writeGradients(job, rounds.subList(2, 5)); // round 3 again: left as it is
    List<CheckpointStore.RoundGradient> back = store.readGradients(job, 2, 4);
    assertEquals(
        List.of(2L, 3L, 4L), back.stream().map(CheckpointStore.RoundGradient::round).toList());
    for (CheckpointStore.RoundGradient g : back) {
      CheckpointStore.RoundGradient sent = rounds.get((int) g.round() - 1);
      assertEquals(sent.lossSum(), g.lossSum());
      assertEquals(sent.samples(), g.samples());
      for (int i = 0; i < odd.length; i++) {
        assertEquals(
            Float.floatToRawIntBits(sent.gradient()[i]),
            Float.floatToRawIntBits(g.gradient()[i]),
            "bits of element " + i);
      }
    }
    assertEquals(3, store.deleteGradientsThrough(job, 3));
    assertEquals(
        List.of(4L, 5L),
        store.readGradients(job, 1, 10).stream()
            .map(CheckpointStore.RoundGradient::round)
            .toList());
  }

  @Test
  void aConnectionKilledByTheServerIsReplacedWithoutFailingTheCall() throws SQLException {
    Stored first = write(1, 1);
    byte[] second = checkpoint(job, 2, 2);
    List<Consumer<CheckpointStore>> calls =
        List.of(
            s -> assertEquals(List.of(first), s.list(job)),
            s -> assertEquals(first.sha256(), CheckpointFormat.checksum(s.read(job, 1))),
            s ->
                assertEquals(2, s.write(job, 2, second, CheckpointFormat.checksum(second)).round()),
            s -> assertEquals(1, s.deleteBefore(job, 2)));
    for (Consumer<CheckpointStore> call : calls) {
      List<Integer> killed = killOtherConnections();
      // The store's connection, and any an earlier test's closed store left exiting.
      assertFalse(killed.isEmpty(), "the store's connection was killed");
      call.accept(store);
      List<Integer> now = otherConnections();
      assertEquals(1, now.size(), "one new connection: " + now);
      assertFalse(killed.contains(now.get(0)), "a new backend");
    }
    assertEquals(List.of(2L), store.list(job).stream().map(Stored::round).toList());
  }

  @Test
  void aFailedStatementIsReportedAndTheNextCallWorks() {
    byte[] bytes = checkpoint(job, 1, 1);
    DatabaseException e =
        assertThrows(DatabaseException.class, () -> store.write(job, 1, bytes, null));
    assertTrue(
        e.getMessage()
            .startsWith(
                "cannot write the checkpoint of round 1 of job "
                    + job
                    + " in "
                    + database.settings().url()
                    + ": "),
        e.getMessage());
    assertEquals(List.of(), store.list(job));
    assertEquals(1, store.write(job, 1, bytes, CheckpointFormat.checksum(bytes)).round());
  }

  @Test
  void anUnreachableDatabaseFailsEveryCallWithItsUrl() throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + DatabaseSettingsTest.closedPort() + "/none";
    try (CheckpointStore unreachable =
        new CheckpointStore(new DatabaseSettings(url, "ops", "secret-pw", false))) {
      DatabaseException e = assertThrows(DatabaseException.class, () -> unreachable.read(job, 1));
      assertTrue(e.getMessage().contains(url), e.getMessage());
      assertFalse(e.getMessage().contains("secret-pw"), e.getMessage());
      assertThrows(DatabaseException.class, () -> unreachable.list(job));
    }
  }
}
