package dev.anvil.core.plane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.plane.PlaneServer.Hello;
import dev.anvil.core.train.BlockPlan;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A peer that speaks the data plane's hello and then sends frames a round does not expect: each is
 * refused before its payload is read (a length of 2^31-1 floats allocates nothing), the group fails
 * with a message naming the sender and what was wrong, and never quotes what it sent.
 */
class HostileFramesTest {
  static final int LENGTH = 100;
  static final ReductionTree TREE = new ReductionTree(4);
  static final List<List<TreeNode>> PLAN = BlockPlan.balanced(TREE, 2);

  static Frame part(UnaryOperator<Frame> change) {
    Frame good = new Frame(Frame.Kind.PART, 9, 1, 1, PLAN.get(1).get(0), LENGTH / 2, 1.0, 16);
    return change.apply(good);
  }

  @Test
  void framesTheRoundDoesNotExpectFailTheGroupNamingTheProblem() throws Exception {
    TreeNode notTheirs = PLAN.get(0).get(0);
    assertRefused(part(f -> withCount(f, Integer.MAX_VALUE)), "a part of the wrong length");
    assertRefused(part(f -> withCount(f, -1)), "a part of the wrong length");
    assertRefused(part(f -> withRound(f, 0)), "for epoch 9 round 0 in epoch 9 round 1");
    assertRefused(part(f -> withRound(f, 1L << 40)), "round 1099511627776 in epoch 9 round 1");
    assertRefused(part(f -> withEpoch(f, 8)), "for epoch 8 round 1");
    assertRefused(part(f -> withNode(f, notTheirs)), "a tree node it does not own");
    assertRefused(part(f -> withNode(f, new TreeNode(30, 5))), "a tree node it does not own");
    assertRefused(part(f -> withFrom(f, 0)), "naming worker 0 as its sender");
    assertRefused(
        new Frame(Frame.Kind.SLICE, 9, 1, 1, null, 1 << 30, 0, 0), "a slice of the wrong length");
  }

  @Test
  void aHeaderThatIsNotAFrameFailsTheGroup() throws Exception {
    byte[] garbage = new byte[Frame.BYTES];
    java.util.Arrays.fill(garbage, (byte) 0x41);
    assertRefused(garbage, "not a data-plane frame");
  }

  @Test
  void aHelloThatIsNotOneIsClosedAndTheGroupGoesOn() throws Exception {
    try (PlaneServer server = server();
        ServerSocket fake = fakePeer()) {
      PlaneGroup group = open(server, fake);
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
        s.setSoTimeout(5_000);
        s.getOutputStream().write(new byte[PlaneServer.HELLO_BYTES]);
        assertEquals(-1, s.getInputStream().read(), "the server closes it without an answer");
      }
      try (Socket s = helloFrom(server, 1)) {
        assertEquals(1, s.getInputStream().read(), "the real peer still gets in");
        try (Socket again = helloFrom(server, 1)) {
          assertEquals(0, again.getInputStream().read(), "a second connection from worker 1");
        }
      }
      group.close();
    }
  }

  private static void assertRefused(Frame frame, String expected) throws Exception {
    ByteBuffer header = ByteBuffer.allocate(Frame.BYTES);
    frame.encode(header);
    byte[] bytes = new byte[Frame.BYTES];
    header.get(bytes);
    assertRefused(bytes, expected);
  }

  private static void assertRefused(byte[] header, String expected) throws Exception {
    try (PlaneServer server = server();
        ServerSocket fake = fakePeer()) {
      PlaneGroup group = open(server, fake);
      try (Socket s = helloFrom(server, 1)) {
        assertEquals(1, s.getInputStream().read());
        CompletableFuture<GradientSum> round =
            CompletableFuture.supplyAsync(
                () ->
                    group.allreduce(
                        1,
                        List.of(new GradientSum(new float[LENGTH], 0, 16)),
                        new float[LENGTH],
                        System.nanoTime() + Duration.ofSeconds(20).toNanos()));
        s.getOutputStream().write(header);
        s.getOutputStream().write(new byte[4 * LENGTH]);
        ExecutionException e =
            assertThrows(ExecutionException.class, () -> round.get(20, TimeUnit.SECONDS));
        String message = e.getCause().getMessage();
        assertTrue(message.contains(expected), message);
        assertTrue(message.startsWith("data plane of worker 0, epoch 9: "), message);
      }
      group.close();
    }
  }

  private static PlaneServer server() throws IOException {
    return PlaneServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null);
  }

  /** Worker 1's port: takes worker 0's connection and answers its hello with 1. */
  private static ServerSocket fakePeer() throws IOException {
    ServerSocket fake = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    PlaneServer.daemon(
            () -> {
              try (Socket s = fake.accept()) {
                new DataInputStream(s.getInputStream()).readFully(new byte[64]);
                s.getOutputStream().write(1);
                s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
              } catch (IOException e) {
                // the test is over
              }
            },
            "fake-worker-1")
        .start();
    return fake;
  }

  private static PlaneGroup open(PlaneServer server, ServerSocket fake) {
    InetSocketAddress peer =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), fake.getLocalPort());
    return PlaneGroup.open(
        server,
        "hostile",
        9,
        0,
        List.of(server.address(), peer),
        TREE,
        PLAN,
        LENGTH,
        System.nanoTime() + Duration.ofSeconds(10).toNanos());
  }

  private static Socket helloFrom(PlaneServer server, int from) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort());
    s.setSoTimeout(5_000);
    ByteBuffer hello = ByteBuffer.allocate(PlaneServer.HELLO_BYTES);
    new Hello(PlaneServer.jobKey("hostile"), 9, from, 0, 2).encode(hello);
    s.getOutputStream().write(hello.array());
    return s;
  }

  private static Frame withCount(Frame f, int count) {
    return new Frame(f.kind(), f.epoch(), f.round(), f.from(), f.node(), count, 0, 0);
  }

  private static Frame withRound(Frame f, long round) {
    return new Frame(f.kind(), f.epoch(), round, f.from(), f.node(), f.count(), 0, 0);
  }

  private static Frame withEpoch(Frame f, long epoch) {
    return new Frame(f.kind(), epoch, f.round(), f.from(), f.node(), f.count(), 0, 0);
  }

  private static Frame withNode(Frame f, TreeNode node) {
    return new Frame(f.kind(), f.epoch(), f.round(), f.from(), node, f.count(), 0, 0);
  }

  private static Frame withFrom(Frame f, int from) {
    return new Frame(f.kind(), f.epoch(), f.round(), from, f.node(), f.count(), 0, 0);
  }
}
