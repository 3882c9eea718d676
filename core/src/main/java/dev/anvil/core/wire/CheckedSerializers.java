package dev.anvil.core.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.ByteBufferOutput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.io.Output;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Serializers for everything whose size is written in the bytes (arrays, strings): each checks the
 * length it reads against the bytes actually present before allocating, so a few hostile bytes
 * cannot make a node allocate gigabytes (Kryo's own serializers allocate first). A bad length is a
 * {@link KryoException}: the message is dropped, the node stays up.
 */
public final class CheckedSerializers {
  private CheckedSerializers() {}

  /** Reads a length written as {@code n + 1} (0 = null) and checks it against the input. */
  static int readLength(Input input, int bytesPerElement, String what) {
    int encoded = input.readVarInt(true);
    if (encoded == 0) {
      return -1;
    }
    int n = encoded - 1;
    long available = remaining(input);
    if (n < 0 || (long) n * bytesPerElement > available) {
      throw new KryoException(
          "hostile or corrupt length: "
              + what
              + " of "
              + n
              + " elements announced but only "
              + available
              + " bytes remain");
    }
    return n;
  }

  static long remaining(Input input) {
    return input.limit() - input.position();
  }

  /** A little-endian view of {@code buffer} from {@code position} (the buffer is not moved). */
  private static ByteBuffer littleEndianAt(ByteBuffer buffer, int position) {
    ByteBuffer view = buffer.duplicate();
    view.position(position);
    return view.slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  static void writeLength(Output output, Object array, int length) {
    output.writeVarInt(array == null ? 0 : length + 1, true);
  }

  /**
   * Float arrays as little-endian IEEE-754 bytes, copied in bulk (parameter and gradient vectors
   * are most of Anvil's traffic; element-by-element writing was the top cost of a round). Over
   * Artery ({@link KryoSerializer} as a {@code ByteBufferSerializer}) the floats go straight
   * between the array and the transport's buffer.
   */
  public static final Serializer<float[]> FLOATS =
      new Serializer<>(true, true) {
        @Override
        public void write(Kryo kryo, Output output, float[] a) {
          writeLength(output, a, a == null ? 0 : a.length);
          if (a == null) {
            return;
          }
          if (output instanceof ByteBufferOutput direct) {
            // Straight into the transport's buffer (Artery's envelope): one copy, no garbage.
            ByteBuffer target = direct.getByteBuffer();
            if (target.remaining() < a.length * 4L) {
              throw new KryoBufferOverflowException(
                  "float[] of "
                      + a.length
                      + " elements needs "
                      + a.length * 4L
                      + " bytes, "
                      + target.remaining()
                      + " remain in the buffer");
            }
            littleEndianAt(target, output.position()).asFloatBuffer().put(a);
            output.setPosition(output.position() + a.length * 4);
          } else {
            byte[] bytes = new byte[a.length * 4];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(a);
            output.writeBytes(bytes);
          }
        }

        @Override
        public float[] read(Kryo kryo, Input input, Class<? extends float[]> type) {
          int n = readLength(input, 4, "float[]");
          if (n < 0) {
            return null;
          }
          float[] a = new float[n];
          if (input instanceof ByteBufferInput direct) {
            littleEndianAt(direct.getByteBuffer(), input.position()).asFloatBuffer().get(a);
            input.setPosition(input.position() + n * 4);
          } else {
            ByteBuffer.wrap(input.readBytes(n * 4))
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer()
                .get(a);
          }
          return a;
        }
      };

  public static final Serializer<double[]> DOUBLES =
      new Serializer<>(true, true) {
        @Override
        public void write(Kryo kryo, Output output, double[] a) {
          writeLength(output, a, a == null ? 0 : a.length);
          if (a != null) {
            output.writeDoubles(a, 0, a.length);
          }
        }

        @Override
        public double[] read(Kryo kryo, Input input, Class<? extends double[]> type) {
          int n = readLength(input, 8, "double[]");
          return n < 0 ? null : input.readDoubles(n);
        }
      };

  public static final Serializer<long[]> LONGS =
      new Serializer<>(true, true) {
        @Override
        public void write(Kryo kryo, Output output, long[] a) {
          writeLength(output, a, a == null ? 0 : a.length);
          if (a != null) {
            output.writeLongs(a, 0, a.length);
          }
        }

        @Override
        public long[] read(Kryo kryo, Input input, Class<? extends long[]> type) {
          int n = readLength(input, 8, "long[]");
          return n < 0 ? null : input.readLongs(n);
        }
      };

  public static final Serializer<int[]> INTS =
      new Serializer<>(true, true) {
        @Override
        public void write(Kryo kryo, Output output, int[] a) {
          writeLength(output, a, a == null ? 0 : a.length);
          if (a != null) {
            output.writeInts(a, 0, a.length);
          }
        }

        @Override
        public int[] read(Kryo kryo, Input input, Class<? extends int[]> type) {
          int n = readLength(input, 4, "int[]");
          return n < 0 ? null : input.readInts(n);
        }
      };

  public static final Serializer<byte[]> BYTES =
      new Serializer<>(true, true) {
        @Override
        public void write(Kryo kryo, Output output, byte[] a) {
          writeLength(output, a, a == null ? 0 : a.length);
          if (a != null) {
            output.writeBytes(a);
          }
        }

        @Override
        public byte[] read(Kryo kryo, Input input, Class<? extends byte[]> type) {
          int n = readLength(input, 1, "byte[]");
          return n < 0 ? null : input.readBytes(n);
        }
      };

  /** Strings as UTF-8 bytes with a checked byte length. */
  public static final Serializer<String> STRING =
      new Serializer<>(true, true) {
        @Override
        public void write(Kryo kryo, Output output, String s) {
          if (s == null) {
            output.writeVarInt(0, true);
            return;
          }
          byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
          output.writeVarInt(utf8.length + 1, true);
          output.writeBytes(utf8);
        }

        @Override
        public String read(Kryo kryo, Input input, Class<? extends String> type) {
          int n = readLength(input, 1, "String");
          return n < 0 ? null : new String(input.readBytes(n), StandardCharsets.UTF_8);
        }
      };

  /**
   * An array of a registered element type. Each element takes at least one byte, so a length larger
   * than the remaining bytes is refused before the array is allocated.
   */
  public static <T> Serializer<T[]> arrayOf(Class<T> elementType) {
    return new Serializer<>(true, true) {
      @Override
      public void write(Kryo kryo, Output output, T[] a) {
        writeLength(output, a, a == null ? 0 : a.length);
        if (a != null) {
          for (T element : a) {
            kryo.writeObjectOrNull(output, element, elementType);
          }
        }
      }

      @Override
      @SuppressWarnings("unchecked")
      public T[] read(Kryo kryo, Input input, Class<? extends T[]> type) {
        int n = readLength(input, 1, elementType.getSimpleName() + "[]");
        if (n < 0) {
          return null;
        }
        T[] out = (T[]) Array.newInstance(elementType, n);
        for (int i = 0; i < n; i++) {
          out[i] = kryo.readObjectOrNull(input, elementType);
        }
        return out;
      }
    };
  }
}
