package dev.anvil.core.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 over numbers in their little-endian binary form: the observable of determinism. */
public final class Digests {
  private static final int CHUNK = 1 << 14;

  private final MessageDigest digest;
  private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);

  private Digests() {
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  public static Digests sha256() {
    return new Digests();
  }

  /** SHA-256 of {@code values} as little-endian IEEE-754 float32, in lower-case hex. */
  public static String sha256(float[] values) {
    return sha256().add(values).hex();
  }

  public Digests add(float[] values) {
    for (int from = 0; from < values.length; from += CHUNK) {
      int to = Math.min(values.length, from + CHUNK);
      buffer.clear();
      for (int i = from; i < to; i++) {
        buffer.putFloat(values[i]);
      }
      buffer.flip();
      digest.update(buffer);
    }
    return this;
  }

  public Digests add(int[] values) {
    for (int from = 0; from < values.length; from += CHUNK) {
      int to = Math.min(values.length, from + CHUNK);
      buffer.clear();
      for (int i = from; i < to; i++) {
        buffer.putInt(values[i]);
      }
      buffer.flip();
      digest.update(buffer);
    }
    return this;
  }

  public Digests add(long value) {
    buffer.clear();
    buffer.putLong(value);
    buffer.flip();
    digest.update(buffer);
    return this;
  }

  public String hex() {
    return HexFormat.of().formatHex(digest.digest());
  }
}
