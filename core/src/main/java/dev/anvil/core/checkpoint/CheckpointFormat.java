package dev.anvil.core.checkpoint;

import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.TrainingState;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The binary form of a {@link Checkpoint}: a magic, a format version, the fields in a fixed order
 * (floats as little-endian IEEE-754 blocks), and a SHA-256 trailer over everything before it.
 * {@link #decode} refuses bytes whose trailer does not match, a newer format version and any length
 * that does not fit the bytes, each with a message saying which.
 *
 * <p>Format version 1 (the only one so far; a reader of version n reads every version up to n):
 *
 * <pre>
 *   "ANVILCKP" u32 version
 *   str jobId, str spec, u32 workers, str dataFingerprint, str kernel
 *   i64 round, f64 loss, floats params, i64 optimizerSteps, u32 slots, slots x floats
 *   u32 reports, reports x (f64 epoch, i64 round, f64 trainLoss, f64 testLoss, u8 hasAccuracy,
 *       f64 accuracy)
 *   f64 epochLossSum, i64 epochRounds
 *   32 bytes SHA-256 of all of the above
 * </pre>
 *
 * where {@code str} is a u32 byte length and UTF-8 bytes and {@code floats} a u32 count and the
 * values.
 */
public final class CheckpointFormat {
  public static final int VERSION = 1;
  private static final byte[] MAGIC = "ANVILCKP".getBytes(StandardCharsets.US_ASCII);
  private static final int DIGEST_BYTES = 32;
  private static final int CHUNK = 1 << 14;

  private CheckpointFormat() {}

  /** A checkpoint's bytes and their {@link #checksum}, computed in one pass. */
  public record Encoded(byte[] bytes, String checksum) {}

  /** The checkpoint's bytes, trailer included. */
  public static byte[] encode(Checkpoint c) {
    return encodeWithChecksum(c).bytes();
  }

  /**
   * The checkpoint's bytes and the SHA-256 of all of them, from one pass over the data (the digest
   * runs as the fields are written; the trailer is a copy of it at the body's end).
   */
  public static Encoded encodeWithChecksum(Checkpoint c) {
    int floats = c.state().params().length;
    for (float[] slot : c.state().optimizer().slots()) {
      floats += slot.length;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(4 * floats + 4096);
    MessageDigest digest = newSha256();
    try (DataOutputStream out =
        new DataOutputStream(new java.security.DigestOutputStream(bytes, digest))) {
      out.write(MAGIC);
      out.writeInt(VERSION);
      string(out, c.jobId());
      string(out, c.spec());
      out.writeInt(c.workers());
      string(out, c.dataFingerprint());
      string(out, c.kernel());
      out.writeLong(c.state().round());
      out.writeDouble(c.loss());
      floats(out, c.state().params());
      out.writeLong(c.state().optimizer().steps());
      out.writeInt(c.state().optimizer().slots().length);
      for (float[] slot : c.state().optimizer().slots()) {
        floats(out, slot);
      }
      out.writeInt(c.history().size());
      for (EpochReport r : c.history()) {
        out.writeDouble(r.epoch());
        out.writeLong(r.round());
        out.writeDouble(r.trainLoss());
        out.writeDouble(r.testLoss());
        out.writeBoolean(r.testAccuracy() != null);
        out.writeDouble(r.testAccuracy() == null ? 0 : r.testAccuracy());
      }
      out.writeDouble(c.epochLossSum());
      out.writeLong(c.epochRounds());
      out.flush();
      byte[] trailer = ((MessageDigest) digest.clone()).digest();
      out.write(trailer);
      out.flush();
    } catch (IOException | CloneNotSupportedException e) {
      throw new IllegalStateException("cannot happen: writing to memory with SHA-256", e);
    }
    return new Encoded(bytes.toByteArray(), HexFormat.of().formatHex(digest.digest()));
  }

  /** Decodes {@code bytes}, or throws {@link CorruptCheckpointException} saying what is wrong. */
  public static Checkpoint decode(byte[] bytes) {
    if (bytes.length < MAGIC.length + 4 + DIGEST_BYTES
        || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new CorruptCheckpointException("not an Anvil checkpoint (no ANVILCKP header)");
    }
    int body = bytes.length - DIGEST_BYTES;
    byte[] expected = Arrays.copyOfRange(bytes, body, bytes.length);
    byte[] actual = sha256(bytes, body);
    if (!MessageDigest.isEqual(expected, actual)) {
      throw new CorruptCheckpointException(
          "its SHA-256 does not match its contents (stored "
              + HexFormat.of().formatHex(expected)
              + ", computed "
              + HexFormat.of().formatHex(actual)
              + "): the bytes were changed or truncated");
    }
    try (DataInputStream in =
        new DataInputStream(
            new java.io.ByteArrayInputStream(bytes, MAGIC.length, body - MAGIC.length))) {
      int version = in.readInt();
      if (version < 1 || version > VERSION) {
        throw new CorruptCheckpointException(
            "format version "
                + version
                + ": this Anvil reads"
                + " versions 1 to "
                + VERSION
                + " (was it written by a newer Anvil?)");
      }
      int limit = body;
      String jobId = string(in, limit);
      String spec = string(in, limit);
      int workers = in.readInt();
      String fingerprint = string(in, limit);
      String kernel = string(in, limit);
      long round = in.readLong();
      double loss = in.readDouble();
      float[] params = floats(in, limit);
      long steps = in.readLong();
      int slotCount = count(in.readInt(), limit, "optimizer slots");
      float[][] slots = new float[slotCount][];
      for (int i = 0; i < slotCount; i++) {
        slots[i] = floats(in, limit);
      }
      int reports = count(in.readInt(), limit / 41, "epoch reports");
      List<EpochReport> history = new ArrayList<>(reports);
      for (int i = 0; i < reports; i++) {
        double epoch = in.readDouble();
        long at = in.readLong();
        double trainLoss = in.readDouble();
        double testLoss = in.readDouble();
        boolean hasAccuracy = in.readBoolean();
        double accuracy = in.readDouble();
        history.add(new EpochReport(epoch, at, trainLoss, testLoss, hasAccuracy ? accuracy : null));
      }
      double epochLossSum = in.readDouble();
      long epochRounds = in.readLong();
      if (in.available() != 0) {
        throw new CorruptCheckpointException(
            in.available() + " bytes left over after the" + " last field");
      }
      return new Checkpoint(
          jobId,
          spec,
          workers,
          fingerprint,
          kernel,
          new TrainingState(round, params, new OptimizerState(steps, slots)),
          loss,
          history,
          epochLossSum,
          epochRounds);
    } catch (EOFException e) {
      throw new CorruptCheckpointException("it ends before its last field");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen: reading from memory", e);
    }
  }

  /** SHA-256 of the whole encoded checkpoint, in lower-case hex (what the journal records). */
  public static String checksum(byte[] encoded) {
    return HexFormat.of().formatHex(sha256(encoded, encoded.length));
  }

  private static byte[] sha256(byte[] bytes, int length) {
    MessageDigest d = newSha256();
    d.update(bytes, 0, length);
    return d.digest();
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String string(DataInputStream in, int limit) throws IOException {
    byte[] b = new byte[count(in.readInt(), limit, "string bytes")];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static void floats(DataOutputStream out, float[] values) throws IOException {
    out.writeInt(values.length);
    ByteBuffer buffer =
        ByteBuffer.allocate(4 * Math.min(CHUNK, Math.max(1, values.length)))
            .order(ByteOrder.LITTLE_ENDIAN);
    for (int from = 0; from < values.length; from += CHUNK) {
      int to = Math.min(values.length, from + CHUNK);
      buffer.clear();
      buffer.asFloatBuffer().put(values, from, to - from);
      out.write(buffer.array(), 0, 4 * (to - from));
    }
  }

  private static float[] floats(DataInputStream in, int limit) throws IOException {
    float[] values = new float[count(in.readInt(), limit / 4, "floats")];
    byte[] chunk = new byte[4 * Math.min(CHUNK, Math.max(1, values.length))];
    ByteBuffer buffer = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    for (int from = 0; from < values.length; from += CHUNK) {
      int n = Math.min(values.length - from, CHUNK);
      in.readFully(chunk, 0, 4 * n);
      buffer.clear();
      buffer.asFloatBuffer().get(values, from, n);
    }
    return values;
  }

  private static int count(int n, int limit, String what) {
    if (n < 0 || n > limit) {
      throw new CorruptCheckpointException(
          "a count of " + n + " " + what + " does not fit in " + "the checkpoint");
    }
    return n;
  }
}
