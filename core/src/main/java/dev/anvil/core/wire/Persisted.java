package dev.anvil.core.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/**
 * The encoding of a type that is stored (an event, a recovery record): a format version, then the
 * fields written by hand in a fixed order. A reader of version n reads every version up to n, so a
 * change to a stored type adds a version and a branch to its reader, and the golden fixtures of the
 * old versions keep loading. Kryo's record serializer is not used for stored types: it has no
 * version and its encoding changed once already (Kryo 5.2).
 *
 * <p>Bytes of a newer version than this Anvil knows are refused, saying so.
 */
public final class Persisted<T> extends Serializer<T> {

  /** Writes the fields of the current version. */
  public interface Writer<T> {
    void write(Kryo kryo, Output out, T value);
  }

  /** Reads the fields of any version from 1 to the current one. */
  public interface Reader<T> {
    T read(Kryo kryo, Input in, int version);
  }

  private final String name;
  private final int version;
  private final Writer<T> writer;
  private final Reader<T> reader;

  private Persisted(Class<T> type, int version, Writer<T> writer, Reader<T> reader) {
    super(false, true);
    this.name = type.getSimpleName();
    this.version = version;
    this.writer = writer;
    this.reader = reader;
  }

  /** {@code type}'s encoding, now at {@code version}. */
  public static <T> Persisted<T> of(
      Class<T> type, int version, Writer<T> writer, Reader<T> reader) {
    return new Persisted<>(type, version, writer, reader);
  }

  public int version() {
    return version;
  }

  @Override
  public void write(Kryo kryo, Output output, T value) {
    output.writeVarInt(version, true);
    writer.write(kryo, output, value);
  }

  @Override
  public T read(Kryo kryo, Input input, Class<? extends T> type) {
    int v = input.readVarInt(true);
    if (v < 1 || v > version) {
      throw new KryoException(
          name
              + " in format version "
              + v
              + ": this Anvil reads versions"
              + " 1 to "
              + version
              + " (was it written by a newer Anvil?)");
    }
    return reader.read(kryo, input, v);
  }

  /** A string with a checked length (null allowed). */
  public static void writeString(Kryo kryo, Output out, String s) {
    CheckedSerializers.STRING.write(kryo, out, s);
  }

  public static String readString(Kryo kryo, Input in) {
    return CheckedSerializers.STRING.read(kryo, in, String.class);
  }
}
