package dev.anvil.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.TrainingState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class CheckpointFormatTest {
  private static final String SPEC = "job { name = \"größe-模型-🚀\", seed = 7 }";

  /** Two optimizer slots, more floats than one encoding chunk, and awkward float bit patterns. */
  private static Checkpoint large() {
    int n = 40_000;
    float[] params = new float[n];
    float[] m = new float[n];
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      params[i] = Float.intBitsToFloat(i * 0x9E3779B1);
      m[i] = (float) Math.sin(i);
      v[i] = i * 1e-3f;
    }
    params[0] = -0.0f;
    params[1] = Float.intBitsToFloat(0x7FC12345); // a quiet NaN with a payload
    params[2] = Float.MIN_VALUE;
    params[3] = Float.NEGATIVE_INFINITY;
    List<EpochReport> history =
        List.of(
            new EpochReport(1, 235, 0.61, 0.52, 0.81),
            new EpochReport(2, 470, 0.43, 0.47, null),
            new EpochReport(2.5, 587, 0.4, 0.45, 0.84));
    return new Checkpoint(
        "job-é",
        SPEC,
        3,
        "fp-" + "ab".repeat(32),
        "java",
        new TrainingState(587, params, new OptimizerState(587, new float[][] {m, v})),
        0.4375,
        history,
        12.75,
        117);
  }

  private static Checkpoint small() {
    return new Checkpoint(
        "j",
        "job { }",
        1,
        "fp",
        "native",
        new TrainingState(
            3, new float[] {1.5f, -2f}, new OptimizerState(3, new float[][] {{0.25f, 0f}})),
        0.625,
        List.of(new EpochReport(1, 3, 0.5, 0.4, null)),
        0.75,
        1);
  }

  private static void assertSameCheckpoint(Checkpoint expected, Checkpoint actual) {
    assertEquals(expected.jobId(), actual.jobId());
    assertEquals(expected.spec(), actual.spec());
    assertEquals(expected.workers(), actual.workers());
    assertEquals(expected.dataFingerprint(), actual.dataFingerprint());
    assertEquals(expected.kernel(), actual.kernel());
    assertEquals(expected.round(), actual.round());
    assertEquals(
        Double.doubleToRawLongBits(expected.loss()),
        Double.doubleToRawLongBits(actual.loss()),
        "loss");
    assertArrayEquals(bits(expected.state().params()), bits(actual.state().params()), "params");
    OptimizerState o = expected.state().optimizer();
    assertEquals(o.steps(), actual.state().optimizer().steps());
    assertEquals(o.slots().length, actual.state().optimizer().slots().length);
    for (int i = 0; i < o.slots().length; i++) {
      assertArrayEquals(
          bits(o.slots()[i]), bits(actual.state().optimizer().slots()[i]), "slot " + i);
    }
    assertEquals(expected.history(), actual.history());
    assertEquals(
        Double.doubleToRawLongBits(expected.epochLossSum()),
        Double.doubleToRawLongBits(actual.epochLossSum()));
    assertEquals(expected.epochRounds(), actual.epochRounds());
  }

  private static int[] bits(float[] values) {
    int[] b = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = Float.floatToRawIntBits(values[i]);
    }
    return b;
  }

  private static byte[] sha256(byte[] bytes, int length) throws Exception {
    MessageDigest d = MessageDigest.getInstance("SHA-256");
    d.update(bytes, 0, length);
    return d.digest();
  }

  /** {@code bytes} with another version and a recomputed trailer: only the version is off. */
  private static byte[] withVersion(byte[] bytes, int version) throws Exception {
    byte[] patched = bytes.clone();
    ByteBuffer.wrap(patched).putInt(8, version);
    int body = patched.length - 32;
    System.arraycopy(sha256(patched, body), 0, patched, body, 32);
    return patched;
  }

  @Test
  void roundTripKeepsEveryFieldAndEveryBit() {
    Checkpoint c = large();
    Checkpoint back = CheckpointFormat.decode(CheckpointFormat.encode(c));
    assertSameCheckpoint(c, back);
    assertEquals(null, back.history().get(1).testAccuracy());
    assertEquals(0.81, back.history().get(0).testAccuracy());
    assertEquals(0x7FC12345, Float.floatToRawIntBits(back.state().params()[1]));
  }

  @Test
  void emptyStateRoundTrips() {
    Checkpoint c =
        new Checkpoint(
            "",
            "",
            0,
            "",
            "",
            new TrainingState(0, new float[0], new OptimizerState(0, new float[0][])),
            Double.NaN,
            List.of(),
            0,
            0);
    assertSameCheckpoint(c, CheckpointFormat.decode(CheckpointFormat.encode(c)));
  }

  @Test
  void encodingFollowsTheDocumentedLayout() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(256);
    b.put("ANVILCKP".getBytes(StandardCharsets.US_ASCII)).putInt(CheckpointFormat.VERSION);
    for (String s : new String[] {"j", "job { }"}) {
      b.putInt(s.length()).put(s.getBytes(StandardCharsets.UTF_8));
    }
    b.putInt(1);
    b.putInt(2).put("fp".getBytes(StandardCharsets.UTF_8));
    b.putInt(6).put("native".getBytes(StandardCharsets.UTF_8));
    b.putLong(3).putDouble(0.625);
    b.putInt(2)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putFloat(1.5f)
        .putFloat(-2f)
        .order(ByteOrder.BIG_ENDIAN);
    b.putLong(3).putInt(1);
    b.putInt(2)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putFloat(0.25f)
        .putFloat(0f)
        .order(ByteOrder.BIG_ENDIAN);
    b.putInt(1).putDouble(1).putLong(3).putDouble(0.5).putDouble(0.4).put((byte) 0).putDouble(0);
    b.putDouble(0.75).putLong(1);
    byte[] body = Arrays.copyOf(b.array(), b.position());
    byte[] expected = Arrays.copyOf(body, body.length + 32);
    System.arraycopy(sha256(body, body.length), 0, expected, body.length, 32);

    assertArrayEquals(expected, CheckpointFormat.encode(small()));
  }

  @Test
  void everySingleBitFlipIsRefused() {
    byte[] bytes = CheckpointFormat.encode(small());
    for (int i = 0; i < bytes.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] flipped = bytes.clone();
        flipped[i] ^= (byte) (1 << bit);
        int at = i;
        int b = bit;
        assertThrows(
            CorruptCheckpointException.class,
            () -> CheckpointFormat.decode(flipped),
            () -> "byte " + at + " bit " + b + " of " + bytes.length);
      }
    }
  }

  @Test
  void bitFlipsInALargeCheckpointAreRefusedAsAChecksumMismatch() {
    byte[] bytes = CheckpointFormat.encode(large());
    int[] positions = {
      9,
      20,
      100,
      bytes.length / 2,
      bytes.length / 2 + 1,
      bytes.length - 33,
      bytes.length - 32,
      bytes.length - 1
    };
    for (int at : positions) {
      byte[] flipped = bytes.clone();
      flipped[at] ^= 0x10;
      CorruptCheckpointException e =
          assertThrows(
              CorruptCheckpointException.class,
              () -> CheckpointFormat.decode(flipped),
              "byte " + at);
      assertTrue(e.getMessage().contains("SHA-256 does not match"), e.getMessage());
    }
  }

  @Test
  void truncatedBytesAreRefused() {
    byte[] bytes = CheckpointFormat.encode(small());
    for (int length = 0; length < bytes.length; length++) {
      byte[] cut = Arrays.copyOf(bytes, length);
      assertThrows(
          CorruptCheckpointException.class,
          () -> CheckpointFormat.decode(cut),
          "cut to " + length + " of " + bytes.length + " bytes");
    }
    byte[] large = CheckpointFormat.encode(large());
    assertThrows(
        CorruptCheckpointException.class,
        () -> CheckpointFormat.decode(Arrays.copyOf(large, large.length / 2)));
  }

  @Test
  void aNewerVersionIsRefusedByNumber() throws Exception {
    byte[] bytes = CheckpointFormat.encode(small());
    int newer = CheckpointFormat.VERSION + 1;
    CorruptCheckpointException e =
        assertThrows(
            CorruptCheckpointException.class,
            () -> CheckpointFormat.decode(withVersion(bytes, newer)));
    assertTrue(e.getMessage().contains("format version " + newer), e.getMessage());
    assertTrue(e.getMessage().contains("newer Anvil"), e.getMessage());

    byte[] current = withVersion(bytes, CheckpointFormat.VERSION);
    assertArrayEquals(bytes, current, "the patching itself changes nothing else");
  }

  @Test
  void aWrongMagicIsRefused() {
    byte[] bytes = CheckpointFormat.encode(small());
    bytes[7] = 'Q';
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> CheckpointFormat.decode(bytes));
    assertTrue(e.getMessage().contains("not an Anvil checkpoint"), e.getMessage());

    byte[] text =
        "{\"job\": \"not a checkpoint at all, just some JSON\"}".getBytes(StandardCharsets.UTF_8);
    assertThrows(CorruptCheckpointException.class, () -> CheckpointFormat.decode(text));
  }

  @Test
  void checksumIsTheHexSha256OfTheBytes() throws Exception {
    byte[] bytes = CheckpointFormat.encode(large());
    String checksum = CheckpointFormat.checksum(bytes);
    assertEquals(
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)), checksum);
    assertTrue(checksum.matches("[0-9a-f]{64}"), checksum);
    assertEquals(
        checksum,
        CheckpointFormat.checksum(CheckpointFormat.encode(large())),
        "encoding is deterministic");
  }

  @Test
  void theOnePassChecksumIsTheChecksumOfTheBytes() {
    CheckpointFormat.Encoded e = CheckpointFormat.encodeWithChecksum(large());
    assertEquals(CheckpointFormat.checksum(e.bytes()), e.checksum());
    assertArrayEquals(CheckpointFormat.encode(large()), e.bytes());
  }

  @Test
  void theTrailerIsTheSha256OfEverythingBeforeIt() throws Exception {
    byte[] bytes = CheckpointFormat.encode(large());
    int body = bytes.length - 32;
    assertArrayEquals(sha256(bytes, body), Arrays.copyOfRange(bytes, body, bytes.length));
  }
}
