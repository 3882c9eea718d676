package dev.anvil.persistence;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Float arrays as little-endian IEEE-754 bytes (the bits exactly, NaN payloads included). */
final class FloatBytes {
  private FloatBytes() {}

  static byte[] encode(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  static float[] decode(byte[] bytes) {
    if (bytes.length % 4 != 0) {
      throw new IllegalArgumentException(
          bytes.length + " bytes are not a whole number of" + " floats");
    }
    float[] values = new float[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }
}
