package dev.anvil.core.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.ByteBufferOutput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import com.typesafe.config.Config;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.ByteBufferSerializer;
import org.apache.pekko.serialization.JSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one serializer for every {@link AnvilSerializable} message, event and snapshot. Kryo with
 * registration required (no class is ever looked up by a name from the wire), references off, a
 * maximum depth, explicit ids from each module's {@link WireRegistrar}, and length checks on
 * everything sized by the bytes ({@link CheckedSerializers}). Kryo instances are pooled: one
 * instance is not thread-safe.
 *
 * <p>Artery calls the {@link ByteBufferSerializer} methods: messages are written into and read from
 * its envelope buffers directly (a parameter vector is copied once each way instead of through
 * three intermediate arrays). Journals and snapshots use the byte-array methods; both produce the
 * same bytes.
 *
 * <p>Failure semantics: bytes that do not decode (unknown id, bad length, truncated) are logged
 * with the reason and refused with an exception, so Pekko drops that message and the node stays up;
 * an unregistered type is refused when sent, naming the type.
 */
public final class KryoSerializer extends JSerializer implements ByteBufferSerializer {
  /** Pekko serializer id; stable forever (it is stored in journals). */
  public static final int IDENTIFIER = 0x414E5631;

  private static final Logger log = LoggerFactory.getLogger(KryoSerializer.class);
  private static final java.util.concurrent.atomic.AtomicLong REFUSED_INBOUND =
      new java.util.concurrent.atomic.AtomicLong();
  private static final java.util.concurrent.atomic.AtomicLong REFUSED_OUTBOUND =
      new java.util.concurrent.atomic.AtomicLong();

  private final List<WireRegistrar> registrars;
  private final int maxDepth;
  private final ActorRefResolver resolver;
  private final Pool<Kryo> kryos;
  private final Pool<Output> outputs;

  public KryoSerializer(ExtendedActorSystem system) {
    this(system.settings().config(), ActorRefResolver.get(Adapter.toTyped(system)));
  }

  /** For tests and tools that serialize without an actor system (no actor refs then). */
  public KryoSerializer(Config config, ActorRefResolver resolver) {
    Config names = config.getConfig("anvil.wire.registrars");
    this.registrars =
        loadRegistrars(
            new java.util.TreeSet<>(names.root().keySet()).stream().map(names::getString).toList());
    this.maxDepth = config.getInt("anvil.wire.max-depth");
    this.resolver = resolver;
    this.kryos =
        new Pool<>(true, false, 64) {
          @Override
          protected Kryo create() {
            return newKryo();
          }
        };
    this.outputs =
        new Pool<>(true, true, 64) {
          @Override
          protected Output create() {
            return new Output(4096, -1);
          }
        };
    newKryo(); // fail at start-up, not on the first message, when a registrar is wrong
  }

  private static List<WireRegistrar> loadRegistrars(List<String> classNames) {
    List<WireRegistrar> out = new ArrayList<>();
    for (String name : classNames) {
      try {
        out.add((WireRegistrar) Class.forName(name).getConstructor().newInstance());
      } catch (ReflectiveOperationException | ClassCastException e) {
        throw new IllegalStateException(
            "anvil.wire.registrars names "
                + name
                + ", which is not a WireRegistrar with a public no-argument constructor",
            e);
      }
    }
    return out;
  }

  Kryo newKryo() {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    kryo.setMaxDepth(maxDepth);
    kryo.register(String.class, CheckedSerializers.STRING, 1);
    for (WireRegistrar r : registrars) {
      r.register(new WireRegistry(kryo, r));
    }
    if (resolver != null) {
      new WireRegistry(kryo, CoreWire.INSTANCE)
          .register(
              "org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter",
              CoreWire.ACTOR_REF,
              new ActorRefSerializer(resolver));
    }
    return kryo;
  }

  /** Messages refused on arrival in this JVM (undecodable, unknown id, hostile length). */
  public static long refusedInbound() {
    return REFUSED_INBOUND.get();
  }

  /** Messages refused on sending in this JVM (an unregistered type). */
  public static long refusedOutbound() {
    return REFUSED_OUTBOUND.get();
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    Kryo kryo = kryos.obtain();
    Output output = outputs.obtain();
    try {
      output.reset();
      write(kryo, output, o);
      return output.toBytes();
    } finally {
      if (output.getBuffer().length > (1 << 20)) {
        output.setBuffer(new byte[4096], -1);
      }
      outputs.free(output);
      kryos.free(kryo);
    }
  }

  /**
   * Writes {@code o} at the buffer's position (Artery's envelope buffer, whose size is {@code
   * pekko.remote.artery.advanced.maximum-frame-size}). A message that does not fit is a {@link
   * BufferOverflowException}, which Artery reports as an oversized message and drops.
   */
  @Override
  public void toBinary(Object o, ByteBuffer buf) {
    int room = buf.remaining();
    Kryo kryo = kryos.obtain();
    try {
      write(kryo, new ByteBufferOutput(buf), o);
    } catch (RuntimeException e) {
      if (!overflow(e)) {
        throw e;
      }
      log.warn(
          "{} does not fit in the {} bytes the transport's buffer has room for (see"
              + " pekko.remote.artery.advanced.maximum-frame-size): {}",
          o.getClass().getName(),
          room,
          e.getMessage());
      BufferOverflowException overflow = new BufferOverflowException();
      overflow.initCause(e);
      throw overflow;
    } finally {
      kryos.free(kryo);
    }
  }

  private static void write(Kryo kryo, Output output, Object o) {
    try {
      kryo.writeClassAndObject(output, o);
    } catch (IllegalArgumentException | KryoException e) {
      if (overflow(e)) {
        throw e;
      }
      String reason =
          e.getMessage() != null && e.getMessage().contains("not registered")
              ? o.getClass().getName()
                  + " is not registered for the wire; register it in its"
                  + " module's WireRegistrar"
              : e.getMessage();
      REFUSED_OUTBOUND.incrementAndGet();
      log.warn("refused to send {}: {}", o.getClass().getName(), reason);
      throw new IllegalArgumentException(reason, e);
    }
  }

  /** Whether {@code e} says the output buffer is full (Kryo wraps what a serializer throws). */
  private static boolean overflow(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof KryoBufferOverflowException || t instanceof BufferOverflowException) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    return read(new Input(bytes), bytes.length);
  }

  /** Reads one message from the buffer's position to its limit (Artery's envelope buffer). */
  @Override
  public Object fromBinary(ByteBuffer buf, String manifest) {
    return read(new ByteBufferInput(buf), buf.remaining());
  }

  private Object read(Input input, int length) {
    int end = input.position() + length;
    Kryo kryo = kryos.obtain();
    try {
      Object o = kryo.readClassAndObject(input);
      if (input.position() != end) {
        throw new KryoException((end - input.position()) + " bytes left over after the message");
      }
      return o;
    } catch (KryoException
        | IllegalArgumentException
        | IndexOutOfBoundsException
        | NegativeArraySizeException
        | java.nio.BufferUnderflowException e) {
      REFUSED_INBOUND.incrementAndGet();
      log.warn("refused a message of {} bytes that does not decode: {}", length, e.getMessage());
      throw new IllegalArgumentException("undecodable message: " + e.getMessage(), e);
    } finally {
      kryos.free(kryo);
    }
  }
}
