package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.JobJournal.CheckpointCommitted;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.spec.JobSpecWriter;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingState;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The blocking checkpoint work against an in-memory repository: which stored checkpoint a restore
 * or an export takes (and why newer ones are skipped), which logged gradients continue it, and what
 * an import accepts.
 */
class CheckpointIoTest {
  private static final String JOB = "job-7";
  private static final PreparedJob PREPARED = SmallJob.prepared("rounds = 4");
  private static final String FINGERPRINT = PREPARED.dataFingerprint();

  private TestRepository repository;
  private AtomicInteger opened;
  private CheckpointIo io;

  @BeforeEach
  void open() {
    repository = new TestRepository();
    opened = new AtomicInteger();
    io =
        new CheckpointIo(
            JOB,
            () -> {
              opened.incrementAndGet();
              return repository;
            });
  }

  /** A checkpoint of this job after {@code round} rounds, made on data {@code fingerprint}. */
  private static Checkpoint checkpoint(long round, String fingerprint, String kernel) {
    TrainingState initial = PREPARED.initialState();
    TrainingState state = new TrainingState(round, initial.params(), initial.optimizer());
    return new Checkpoint(
        JOB,
        JobSpecWriter.toHocon(PREPARED.spec()),
        2,
        fingerprint,
        kernel,
        state,
        0.25 * round,
        List.of(new EpochReport(1, 1, 1.5, 1.25, 0.5)),
        0.75,
        3);
  }

  /** Stores a checkpoint of {@code round} made on {@code fingerprint}; its journal reference. */
  private CheckpointCommitted stored(long round, String fingerprint) {
    CheckpointFormat.Encoded e =
        CheckpointFormat.encodeWithChecksum(checkpoint(round, fingerprint, "java"));
    repository.put(round, e.bytes());
    return ref(round, e.checksum(), e.bytes().length);
  }

  private static CheckpointCommitted ref(long round, String checksum, long bytes) {
    return new CheckpointCommitted(round, TestRepository.location(round), checksum, bytes, 1);
  }

  private static RoundGradient gradient(long round) {
    return new RoundGradient(round, new float[] {round, -round}, 2.0 * round, 24);
  }

  private static List<Long> rounds(List<RoundGradient> gradients) {
    return gradients.stream().map(RoundGradient::round).toList();
  }

  @Test
  void restoreTakesTheNewestCheckpointThatVerifiesAndSaysWhyNewerOnesWereSkipped() {
    CheckpointCommitted good = stored(10, FINGERPRINT);
    CheckpointCommitted otherData = stored(20, "another-fingerprint");
    CheckpointCommitted unreadable = stored(25, FINGERPRINT);
    repository.failReads(25);
    byte[] garbage =
        "not a checkpoint at all, but the journal has its checksum"
            .getBytes(StandardCharsets.UTF_8);
    repository.put(30, garbage);
    CheckpointCommitted corrupt = ref(30, CheckpointFormat.checksum(garbage), garbage.length);
    CheckpointCommitted changed = stored(40, FINGERPRINT);
    CheckpointCommitted wrongSum = ref(40, "0".repeat(64), changed.bytes());
    CheckpointCommitted missing = ref(50, "ab".repeat(32), 100);

    CheckpointIo.Restore r =
        io.restore(
            List.of(missing, wrongSum, corrupt, unreadable, otherData, good),
            FINGERPRINT,
            false,
            60);

    assertNotNull(r.checkpoint());
    assertEquals(10, r.checkpoint().round());
    assertEquals(FINGERPRINT, r.checkpoint().dataFingerprint());
    assertEquals(List.of(), r.gradients(), "snapshot mode reads no gradients");
    List<String> skipped = r.skipped();
    assertEquals(5, skipped.size(), skipped::toString);
    assertEquals("round 50: missing from memory:50", skipped.get(0));
    assertTrue(
        skipped
            .get(1)
            .startsWith(
                "round 40: its SHA-256 is "
                    + CheckpointFormat.checksum(repository.read(JOB, 40))
                    + " but the journal recorded "
                    + "0".repeat(64)),
        skipped.get(1));
    assertEquals("round 30: not an Anvil checkpoint (no ANVILCKP header)", skipped.get(2));
    assertEquals("round 25: cannot read the checkpoint of round 25", skipped.get(3));
    assertEquals(
        "round 20: made with data fingerprint another-fingerprint, not this data's " + FINGERPRINT,
        skipped.get(4));
  }

  @Test
  void restoreWithNoCheckpointThatVerifiesStartsFromRoundZeroAndItsLoggedGradients() {
    CheckpointCommitted otherData = stored(3, "another-fingerprint");
    repository.writeGradients(JOB, List.of(gradient(1), gradient(2), gradient(3)));

    CheckpointIo.Restore r = io.restore(List.of(otherData), FINGERPRINT, true, 3);

    assertNull(r.checkpoint());
    assertEquals(1, r.skipped().size());
    assertEquals(List.of(1L, 2L, 3L), rounds(r.gradients()));
  }

  @Test
  void restoreTakesTheLoggedGradientsThatContinueTheCheckpointUpToTheFirstGap() {
    CheckpointCommitted at10 = stored(10, FINGERPRINT);
    repository.writeGradients(
        JOB,
        List.of(
            gradient(9),
            gradient(10),
            gradient(11),
            gradient(12),
            gradient(13),
            gradient(15),
            gradient(16)));

    CheckpointIo.Restore r = io.restore(List.of(at10), FINGERPRINT, true, 15);

    assertEquals(10, r.checkpoint().round());
    assertEquals(
        List.of(11L, 12L, 13L),
        rounds(r.gradients()),
        "round 14 is missing: 15 cannot be replayed and is recomputed");
    assertArrayEquals(new float[] {11, -11}, r.gradients().get(0).gradient());
  }

  @Test
  void loggedGradientsThatDoNotStartRightAfterTheCheckpointAreNotUsed() {
    assertEquals(List.of(), CheckpointIo.contiguous(List.of(gradient(12), gradient(13)), 10));
    assertEquals(
        List.of(1L, 2L),
        rounds(CheckpointIo.contiguous(List.of(gradient(1), gradient(2), gradient(4)), 0)));
    assertEquals(List.of(), CheckpointIo.contiguous(List.of(), 0));
  }

  @Test
  void anExportTakesTheNewestThatVerifiesWhateverItsData() {
    CheckpointCommitted at10 = stored(10, FINGERPRINT);
    CheckpointCommitted otherData = stored(20, "another-fingerprint");
    CheckpointCommitted missing = ref(30, "ab".repeat(32), 100);
    List<String> why = new ArrayList<>();

    CheckpointIo.Verified v = io.newestVerified(List.of(missing, otherData, at10), why);

    assertSame(otherData, v.ref());
    assertEquals(20, v.checkpoint().round());
    assertArrayEquals(repository.read(JOB, 20), v.bytes());
    assertEquals(List.of("round 30: missing from memory:30"), why);
  }

  @Test
  void anExportWithNothingThatVerifiesIsNullWithEveryReason() {
    List<String> why = new ArrayList<>();
    assertNull(
        io.newestVerified(List.of(ref(30, "ab".repeat(32), 1), ref(20, "cd".repeat(32), 1)), why));
    assertEquals(
        List.of("round 30: missing from memory:30", "round 20: missing from memory:20"), why);
  }

  @Test
  void writeStoresTheEncodedCheckpointAndReturnsWhatTheJournalRecords() {
    Checkpoint c = checkpoint(12, FINGERPRINT, "java");

    CheckpointCommitted ref = io.write(c, 4);

    byte[] bytes = repository.read(JOB, 12);
    assertEquals(
        new CheckpointCommitted(
            12, TestRepository.location(12), CheckpointFormat.checksum(bytes), bytes.length, 4),
        ref);
    Checkpoint back = CheckpointFormat.decode(bytes);
    assertEquals(12, back.round());
    assertArrayEquals(c.state().params(), back.state().params());
    assertEquals(c.history(), back.history());
  }

  @Test
  void anImportOfThisDataAndKernelIsStoredWithEpochZero() {
    Checkpoint c = checkpoint(8, FINGERPRINT, "java");
    byte[] bytes = CheckpointFormat.encode(c);

    CheckpointIo.Imported imported = io.importChecked(c, bytes, SpecRules.defaults());

    assertSame(c, imported.checkpoint());
    assertEquals(
        new CheckpointCommitted(
            8, TestRepository.location(8), CheckpointFormat.checksum(bytes), bytes.length, 0),
        imported.ref());
    assertEquals(FINGERPRINT, imported.prepared().dataFingerprint());
    assertEquals(PREPARED.spec(), imported.prepared().spec());
    assertArrayEquals(bytes, repository.read(JOB, 8));
  }

  @Test
  void anImportMadeOnOtherDataIsRefusedAndNotStored() {
    Checkpoint c = checkpoint(8, "another-fingerprint", "java");

    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> io.importChecked(c, CheckpointFormat.encode(c), SpecRules.defaults()));

    assertTrue(
        e.getMessage()
            .startsWith(
                "the checkpoint was made on data with fingerprint"
                    + " another-fingerprint but the data here ("),
        e.getMessage());
    assertTrue(e.getMessage().contains("has fingerprint " + FINGERPRINT), e.getMessage());
    assertEquals(Set.of(), repository.checkpointRounds());
  }

  @Test
  void anImportComputedWithAnotherKernelIsRefusedAndNotStored() {
    Checkpoint c = checkpoint(8, FINGERPRINT, "native");

    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> io.importChecked(c, CheckpointFormat.encode(c), SpecRules.defaults()));

    assertTrue(
        e.getMessage()
            .startsWith(
                "the checkpoint was computed with kernel native but"
                    + " this cluster uses kernel java: the bits would differ; set kernel = native"),
        e.getMessage());
    assertEquals(Set.of(), repository.checkpointRounds());
  }

  @Test
  void retentionDeletesOlderCheckpointsAndInIncrementalModeTheirGradients() {
    for (long round : new long[] {5, 10, 15}) {
      stored(round, FINGERPRINT);
    }
    io.logGradients(List.of(gradient(14), gradient(15), gradient(16)));

    io.deleteBefore(10, false);
    assertEquals(Set.of(10L, 15L), repository.checkpointRounds());
    assertEquals(Set.of(14L, 15L, 16L), repository.gradients().keySet(), "snapshot mode");

    io.deleteBefore(15, true);
    assertEquals(Set.of(15L), repository.checkpointRounds());
    assertEquals(
        Set.of(16L),
        repository.gradients().keySet(),
        "gradients through the oldest kept checkpoint's round are not needed any more");
  }

  @Test
  void aFinishedJobForgetsItsGradientsButKeepsItsCheckpoints() {
    stored(5, FINGERPRINT);
    io.logGradients(List.of(gradient(6), gradient(Long.MAX_VALUE - 1)));

    io.forgetGradients();

    assertEquals(Set.of(), repository.gradients().keySet());
    assertEquals(Set.of(5L), repository.checkpointRounds());
  }

  @Test
  void theRepositoryIsOpenedOnFirstUseOnceAndClosedWithTheIo() {
    assertEquals(0, opened.get());
    io.forgetGradients();
    io.deleteBefore(1, true);
    assertEquals(1, opened.get());
    assertFalse(repository.closed());
    io.close();
    assertTrue(repository.closed());

    CheckpointIo unused =
        new CheckpointIo(
            JOB,
            () -> {
              opened.incrementAndGet();
              return repository;
            });
    unused.close();
    assertEquals(1, opened.get(), "closing an unused one opens nothing");
  }
}
