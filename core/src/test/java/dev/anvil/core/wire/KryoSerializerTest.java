package dev.anvil.core.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.WorkerReply;
import dev.anvil.core.train.TreeNode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KryoSerializerTest {
  static ActorTestKit testKit;
  static Serialization serialization;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create();
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Object roundTrip(Object message) {
    Serializer s = serialization.findSerializerFor(message);
    assertEquals(KryoSerializer.IDENTIFIER, s.identifier(), "bound to the Anvil serializer");
    return s.fromBinary(s.toBinary(message));
  }

  @Test
  void protocolMessagesRoundTripWithActorRefs() {
    TestProbe<WorkerReply> probe = testKit.createTestProbe();
    PrepareJob prepare = new PrepareJob("job-1", 3, "job { name = x }", probe.ref());
    assertEquals(prepare, roundTrip(prepare));

    ComputeNodes compute =
        new ComputeNodes(
            "job-1",
            3,
            17,
            new float[] {1f, -2.5f, Float.NaN},
            new TreeNode[] {new TreeNode(2, 1), TreeNode.leaf(7)},
            probe.ref());
    ComputeNodes back = (ComputeNodes) roundTrip(compute);
    assertArrayEquals(compute.params(), back.params());
    assertArrayEquals(compute.nodes(), back.nodes());
    assertEquals(probe.ref(), back.replyTo());

    ComputeNodes cached = new ComputeNodes("j", 1, 2, null, new TreeNode[0], probe.ref());
    assertEquals(null, ((ComputeNodes) roundTrip(cached)).params());
  }

  @Test
  void largeParameterVectorsRoundTripBitExactly() {
    float[] big = new float[1_200_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = Float.intBitsToFloat(i * 2654435761L > 0 ? i * 31 : i);
    }
    NodeResult r = new NodeResult("j", 1, 5, new TreeNode(4, 0), big, 1.5, 256, "w", 9);
    NodeResult back = (NodeResult) roundTrip(r);
    assertArrayEquals(big, back.grad());
    assertEquals(r.node(), back.node());
  }

  @Test
  void unregisteredTypeIsRefusedByName() {
    record Unregistered(int x) implements AnvilSerializable {}
    Serializer s = serialization.findSerializerFor(new Unregistered(1));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> s.toBinary(new Unregistered(1)));
    assertTrue(
        e.getMessage().contains("Unregistered is not registered for the wire"), e.getMessage());
  }

  @Test
  void unknownRegistrationIdIsRefused() throws Exception {
    Serializer s = serialization.serializerFor(NodeResult.class);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> s.fromBinary(new byte[] {(byte) 0xE7, 0x07, 0, 0}));
    assertTrue(e.getMessage().startsWith("undecodable message: "), e.getMessage());
  }

  /** A float array length of two billion in a 40-byte message must not allocate 8 GB. */
  @Test
  void hostileArrayLengthIsRefusedBeforeAllocating() throws Exception {
    float[] marker = {1.25f, 2.5f, 3.75f};
    NodeResult r = new NodeResult("j", 1, 5, TreeNode.leaf(0), marker, 0.5, 16, "w", 1);
    Serializer s = serialization.findSerializerFor(r);
    byte[] bytes = s.toBinary(r);
    byte[] pattern =
        ByteBuffer.allocate(12)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putFloat(1.25f)
            .putFloat(2.5f)
            .putFloat(3.75f)
            .array();
    int at = indexOf(bytes, pattern);
    assertTrue(at > 0 && bytes[at - 1] == 4, "length byte 3 + 1 precedes the floats");
    ByteArrayOutputStream hostile = new ByteArrayOutputStream();
    hostile.write(bytes, 0, at - 1);
    hostile.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07});
    hostile.write(bytes, at, bytes.length - at);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> s.fromBinary(hostile.toByteArray()));
    assertTrue(e.getMessage().contains("hostile or corrupt length: float[] of"), e.getMessage());
  }

  @Test
  void hostileStringLengthIsRefused() throws Exception {
    Serializer s = anvilSerializer();
    byte[] bytes = s.toBinary(new String[] {"abc"});
    byte[] hostile = bytes.clone();
    int at = indexOf(bytes, new byte[] {'a', 'b', 'c'});
    hostile[at - 1] = 0x7F; // 126 bytes announced, 3 present
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> s.fromBinary(hostile));
    assertTrue(e.getMessage().contains("hostile or corrupt length: String of 126"), e.getMessage());
  }

  @Test
  void trailingBytesAreRefused() throws Exception {
    Serializer s = anvilSerializer();
    byte[] bytes = s.toBinary(new int[] {1, 2});
    byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 3);
    assertThrows(IllegalArgumentException.class, () -> s.fromBinary(longer));
  }

  /**
   * Artery's path: written into and read from a direct buffer at an offset (its envelope header
   * comes first), the same bytes as the byte-array path, bit-exact both ways.
   */
  @Test
  void byteBufferPathWritesTheSameBytesAndReadsThemBack() {
    float[] big = new float[1_100_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = Float.intBitsToFloat(0x3f000000 + i * 7919);
    }
    big[3] = Float.NaN;
    big[4] = Float.intBitsToFloat(0x7fc00123); // a NaN with payload
    NodeResult r = new NodeResult("j", 1, 5, new TreeNode(4, 0), big, 1.5, 256, "w", 9);
    KryoSerializer s = (KryoSerializer) serialization.findSerializerFor(r);
    byte[] viaArray = s.toBinary(r);

    ByteBuffer buf =
        ByteBuffer.allocateDirect(viaArray.length + 200)
            .order(ByteOrder.LITTLE_ENDIAN); // Artery's envelope buffers are little-endian
    buf.position(57);
    s.toBinary(r, buf);
    assertEquals(57 + viaArray.length, buf.position(), "advanced by exactly the message");
    byte[] written = new byte[viaArray.length];
    buf.duplicate().position(57).get(written);
    assertArrayEquals(viaArray, written);

    buf.flip().position(57);
    NodeResult back = (NodeResult) s.fromBinary(buf, "");
    assertEquals(buf.limit(), buf.position(), "the whole message consumed");
    float[] grad = back.grad();
    for (int i = 0; i < big.length; i++) {
      if (Float.floatToRawIntBits(big[i]) != Float.floatToRawIntBits(grad[i])) {
        throw new AssertionError("float " + i + " changed bits");
      }
    }
    assertEquals(r.node(), back.node());
    assertEquals(r.worker(), back.worker());
    assertEquals(r.computeNanos(), back.computeNanos());
  }

  /** Too big for the frame: a BufferOverflowException, which Artery reports and drops. */
  @Test
  void messageLargerThanTheTransportBufferIsAnOverflow() {
    NodeResult r = new NodeResult("j", 1, 5, TreeNode.leaf(0), new float[10_000], 1, 16, "w", 1);
    KryoSerializer s = (KryoSerializer) serialization.findSerializerFor(r);
    ByteBuffer small = ByteBuffer.allocate(30_000);
    assertThrows(java.nio.BufferOverflowException.class, () -> s.toBinary(r, small));
    ByteBuffer tiny = ByteBuffer.allocate(8);
    assertThrows(java.nio.BufferOverflowException.class, () -> s.toBinary(r, tiny));
  }

  @Test
  void byteBufferPathRefusesHostileLengthsAndTrailingBytes() {
    float[] marker = {1.25f, 2.5f, 3.75f};
    NodeResult r = new NodeResult("j", 1, 5, TreeNode.leaf(0), marker, 0.5, 16, "w", 1);
    KryoSerializer s = (KryoSerializer) serialization.findSerializerFor(r);
    byte[] bytes = s.toBinary(r);
    byte[] pattern =
        ByteBuffer.allocate(12)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putFloat(1.25f)
            .putFloat(2.5f)
            .putFloat(3.75f)
            .array();
    int at = indexOf(bytes, pattern);
    byte[] hostile = bytes.clone();
    hostile[at - 1] = 0x7F; // 126 floats announced, 3 present
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> s.fromBinary(ByteBuffer.wrap(hostile), ""));
    assertTrue(
        e.getMessage().contains("hostile or corrupt length: float[] of 126"), e.getMessage());

    ByteBuffer longer = ByteBuffer.allocate(bytes.length + 3);
    longer.put(bytes).put(new byte[] {1, 2, 3}).flip();
    e = assertThrows(IllegalArgumentException.class, () -> s.fromBinary(longer, ""));
    assertTrue(e.getMessage().contains("3 bytes left over"), e.getMessage());

    ByteBuffer truncated = ByteBuffer.wrap(bytes, 0, bytes.length - 5).slice();
    assertThrows(IllegalArgumentException.class, () -> s.fromBinary(truncated, ""));
  }

  private static Serializer anvilSerializer() {
    return serialization.serializerByIdentity().apply(KryoSerializer.IDENTIFIER);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
