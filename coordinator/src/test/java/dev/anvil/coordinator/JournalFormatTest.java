package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.coordinator.JobJournal.CoordinatorStarted;
import dev.anvil.coordinator.JobJournal.JobCancelled;
import dev.anvil.coordinator.JobJournal.JobCompleted;
import dev.anvil.coordinator.JobJournal.JobFailed;
import dev.anvil.coordinator.JobJournal.JobImported;
import dev.anvil.coordinator.JobJournal.JobPaused;
import dev.anvil.coordinator.JobJournal.JobResumed;
import dev.anvil.coordinator.JobJournal.JobSubmitted;
import dev.anvil.coordinator.JobJournal.RecoveryRecorded;
import dev.anvil.coordinator.JobJournal.RoundCommitted;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.TrainingState;
import dev.anvil.core.wire.KryoSerializer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Golden fixtures: one committed file per stored type and format version ({@code
 * src/test/resources/golden/TYPE.vN.bin}), written by an earlier build. Every fixture must still
 * load to the same value, so a change that breaks reading old journals or exported checkpoints
 * fails here. Fixtures of the current versions must also be what this build writes.
 *
 * <p>After adding a stored type or a version, create its fixture once with {@code ./mvnw -pl
 * coordinator test -Dtest=JournalFormatTest -Danvil.golden.write=true} and commit it; fixtures that
 * exist are never rewritten.
 */
class JournalFormatTest {
  static final Path GOLDEN = Path.of("src/test/resources/golden");

  final KryoSerializer kryo = new KryoSerializer(ConfigFactory.load(), null);

  /** A value of every stored type, as its fixture of version 1 holds it. */
  static Map<Class<?>, Object> version1() {
    Map<Class<?>, Object> m = new LinkedHashMap<>();
    m.put(JobSubmitted.class, new JobSubmitted("job { name = \"g\", seed = 7 }", 3));
    m.put(RoundCommitted.class, new RoundCommitted(1234, 0.693147, 128, 1_790_000_000_123L, 2));
    m.put(JobCompleted.class, new JobCompleted("{\"paramsSha256\": \"ab\"}", 2));
    m.put(JobFailed.class, new JobFailed("diverged at round 9", 1));
    m.put(
        CoordinatorStarted.class,
        new CoordinatorStarted(2, "127.0.0.1:25520", 1_790_000_000_000L, 0));
    m.put(
        RecoveryRecorded.class,
        new RecoveryRecorded(
            new Recovery(
                "node-unreachable",
                "127.0.0.1:25521 in round 40",
                0,
                1_790_000_000_100L,
                1_790_000_000_150L,
                1_790_000_000_250L,
                1_790_000_000_050L,
                0,
                0,
                4),
            2));
    m.put(
        CheckpointCommitted.class,
        new CheckpointCommitted(
            1200, "postgres:anvil_checkpoint/g/1200", "0f".repeat(32), 21_845, 2));
    m.put(JobPaused.class, new JobPaused(1200, 2));
    m.put(JobResumed.class, new JobResumed("pekko://anvil@127.0.0.1:40000", 1_790_000_001_000L, 2));
    m.put(JobCancelled.class, new JobCancelled("cancelled: not needed", 3));
    m.put(JobImported.class, new JobImported("job { name = \"g\" }", 2, 1200, 0.25, "g"));
    m.put(
        JobJournal.JournalCompacted.class,
        new JobJournal.JournalCompacted(
            new JournalState(
                "job { name = \"g\" }",
                3,
                2,
                1234,
                0.693147,
                1_790_000_000_123L,
                List.of(((RecoveryRecorded) m.get(RecoveryRecorded.class)).recovery()),
                List.of((CheckpointCommitted) m.get(CheckpointCommitted.class)),
                false,
                0,
                null,
                null,
                0),
            87,
            2));
    return m;
  }

  /** The values the current versions' fixtures hold: version 1's, with the newer fields set. */
  static Map<Class<?>, Object> current() {
    Map<Class<?>, Object> m = version1();
    m.put(
        CoordinatorStarted.class,
        new CoordinatorStarted(2, "127.0.0.1:25520", 1_790_000_000_000L, 41));
    Recovery recovery =
        new Recovery(
            "node-unreachable",
            "127.0.0.1:25521 in round 40",
            1_790_000_000_080L,
            1_790_000_000_100L,
            1_790_000_000_150L,
            1_790_000_000_250L,
            1_790_000_000_050L,
            0,
            0,
            4);
    m.put(RecoveryRecorded.class, new RecoveryRecorded(recovery, 2));
    m.put(
        JobJournal.JournalCompacted.class,
        new JobJournal.JournalCompacted(
            new JournalState(
                "job { name = \"g\" }",
                3,
                2,
                1234,
                0.693147,
                1_790_000_000_123L,
                List.of(recovery),
                List.of((CheckpointCommitted) m.get(CheckpointCommitted.class)),
                false,
                0,
                null,
                null,
                1_789_999_990_000L),
            87,
            2));
    return m;
  }

  static Checkpoint checkpointVersion1() {
    return new Checkpoint(
        "g",
        "job { name = \"g\" }",
        3,
        "fp-" + "12".repeat(31),
        "java",
        new TrainingState(
            1200,
            new float[] {0.5f, -1.25f, 3e-7f},
            new OptimizerState(1200, new float[][] {{0.1f, 0.2f, 0.3f}, {1f, 2f, 3f}})),
        0.25,
        List.of(new EpochReport(1, 600, 0.4, 0.35, 0.9), new EpochReport(2, 1200, 0.3, 0.31, null)),
        0,
        0);
  }

  @Test
  void everyStoredTypeHasAFixtureValue() {
    for (JournalFormat.Entry<?> e : JournalFormat.ENTRIES) {
      assertTrue(
          version1().containsKey(e.type()),
          e.type().getSimpleName()
              + " is stored but has no golden value: add one here and create its fixture");
    }
  }

  @Test
  void journalEventFixturesStillLoad() throws IOException {
    for (Map.Entry<Class<?>, Object> e : version1().entrySet()) {
      Path file = fixture(e.getKey().getSimpleName() + ".v1.bin", kryo.toBinary(e.getValue()));
      assertEquals(
          e.getValue(),
          kryo.fromBinaryJava(Files.readAllBytes(file), null),
          file + " no longer loads to the same value");
    }
  }

  @Test
  void currentVersionsWriteTheirFixturesBytes() throws IOException {
    for (JournalFormat.Entry<?> e : JournalFormat.ENTRIES) {
      Object value = current().get(e.type());
      Path file =
          fixture(
              e.type().getSimpleName() + ".v" + e.format().version() + ".bin",
              kryo.toBinary(value));
      assertEquals(
          value,
          kryo.fromBinaryJava(Files.readAllBytes(file), null),
          file + " no longer loads to the same value");
      assertArrayEquals(
          Files.readAllBytes(file),
          kryo.toBinary(value),
          e.type().getSimpleName()
              + " is written differently than its fixture of the same version: a changed encoding"
              + " needs a new version");
    }
  }

  @Test
  void checkpointFixtureStillLoads() throws IOException {
    Checkpoint expected = checkpointVersion1();
    Path file = fixture("Checkpoint.v1.anvilckpt", CheckpointFormat.encode(expected));
    byte[] bytes = Files.readAllBytes(file);
    Checkpoint back = CheckpointFormat.decode(bytes);
    assertEquals(expected.spec(), back.spec());
    assertEquals(expected.round(), back.round());
    assertEquals(expected.history(), back.history());
    assertEquals(expected.state().optimizer(), back.state().optimizer());
    assertArrayEquals(expected.state().params(), back.state().params());
    assertEquals(
        CheckpointFormat.VERSION == 1,
        java.util.Arrays.equals(bytes, CheckpointFormat.encode(expected)),
        "version 1 is still written the same way");
  }

  @Test
  void aNewerVersionIsRefusedSayingSo() {
    byte[] bytes = kryo.toBinary(new JobPaused(5, 1));
    // The registration id is one varint byte pair; the version follows it.
    int at = 2;
    assertEquals(1, bytes[at]);
    bytes[at] = 9;
    try {
      kryo.fromBinaryJava(bytes, null);
      fail("a version from the future must not load");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().contains("JobPaused in format version 9"), e.getMessage());
    }
  }

  /** The fixture's path; with -Danvil.golden.write=true a missing one is created. */
  private static Path fixture(String name, byte[] current) throws IOException {
    Path file = GOLDEN.resolve(name);
    if (!Files.exists(file)) {
      if (!Boolean.getBoolean("anvil.golden.write")) {
        fail(file + " is missing: create it with -Danvil.golden.write=true and commit it");
      }
      Files.createDirectories(GOLDEN);
      Files.write(file, current);
    }
    return file;
  }
}
