package dev.anvil.core.plane;

import dev.anvil.core.plane.PlaneServer.GroupKey;
import dev.anvil.core.plane.PlaneServer.Hello;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLSocket;

/**
 * One worker's place in the data plane of one job epoch: the W workers of the epoch's view sum
 * their tree nodes' gradients with each other, with no hub. {@link #allreduce} is a reduce-scatter
 * then an allgather over the parameter vector cut into W {@link Slices}: each worker sends its part
 * of every other worker's slice, adds all nodes' parts of its own slice in the reduction tree's
 * order (the additions the coordinator would make, element by element, so the same bits), and sends
 * the completed slice to everyone. A worker owning one node sends and receives {@code 2 (W-1)/W x
 * 4P} bytes a round; one owning k nodes (uneven shard counts) sends k parts.
 *
 * <p>A group lives for one epoch. Any failure (a peer's connection closes, a frame the round does
 * not expect, the deadline passes) fails the group for good, and every call after it throws: the
 * coordinator's next view opens a new group.
 */
public final class PlaneGroup implements AutoCloseable {
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> PlaneServer.daemon(r, "anvil-plane-watch"));
  private static final int CHUNK_BYTES = 1 << 16;
  private static final long WATCHDOG_GRACE_NANOS = 100_000_000;

  private final PlaneServer server;
  private final GroupKey key;
  private final int self;

  /** Workers of the group (W); an observer, when there is one, has index W. */
  private final int workers;

  /** Connections a member has: W workers plus the observer, if any. */
  private final int size;

  private final Slices slices;
  private final ReductionTree tree;
  private final List<TreeNode> mine;
  private final Set<TreeNode> nodes = new HashSet<>();
  private final Inbox inbox;
  private final Socket[] incoming;
  private final Socket[] outgoing;
  private final OutputStream[] out;
  private final ByteBuffer header = ByteBuffer.allocate(Frame.BYTES);
  private final ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final FloatBuffer chunkFloats = chunk.asFloatBuffer();
  private final AtomicLong bytesSent = new AtomicLong();
  private volatile boolean closed;
  private volatile int sendingTo = -1;

  private PlaneGroup(
      PlaneServer server,
      GroupKey key,
      ReductionTree tree,
      List<List<TreeNode>> plan,
      int length,
      boolean observed) {
    this.server = server;
    this.key = key;
    this.self = key.index();
    this.workers = plan.size();
    this.size = workers + (observed ? 1 : 0);
    this.slices = new Slices(length, workers);
    this.tree = tree;
    this.mine = self < workers ? plan.get(self) : List.of();
    plan.forEach(nodes::addAll);
    this.inbox = new Inbox(key.epoch(), self, slices, plan);
    this.incoming = new Socket[size];
    this.outgoing = new Socket[size];
    this.out = new OutputStream[size];
  }

  /**
   * Opens worker {@code self}'s group for {@code epoch} and connects to every other member.
   *
   * @param members each worker's data-plane address, by worker index, then the observer's if the
   *     group has one (it gets every completed slice: {@link #observe})
   * @param plan each worker's tree nodes, by worker index ({@code BlockPlan.balanced})
   * @param length the parameter count
   * @throws PlaneException if a member is not reachable, or has not opened its group, by the
   *     deadline
   */
  public static PlaneGroup open(
      PlaneServer server,
      String jobId,
      long epoch,
      int self,
      List<InetSocketAddress> members,
      ReductionTree tree,
      List<List<TreeNode>> plan,
      int length,
      long deadlineNanos) {
    PlaneGroup g = join(server, jobId, epoch, self, members.size(), tree, plan, length);
    g.connect(members, deadlineNanos);
    return g;
  }

  /**
   * Worker {@code self}'s group for {@code epoch}, registered with the server (peers' connections
   * are taken from now on) but not connected yet: {@link #connect}. A {@link #close} from another
   * thread ends a {@code connect} waiting for a peer.
   *
   * @param memberCount the workers, plus one when the group has an observer
   */
  public static PlaneGroup join(
      PlaneServer server,
      String jobId,
      long epoch,
      int self,
      int memberCount,
      ReductionTree tree,
      List<List<TreeNode>> plan,
      int length) {
    boolean observed = memberCount == plan.size() + 1;
    if ((memberCount != plan.size() && !observed) || self < 0 || self >= plan.size()) {
      throw new IllegalArgumentException(
          "worker " + self + " of " + memberCount + " members and " + plan.size() + " blocks");
    }
    return register(server, jobId, epoch, self, tree, plan, length, observed);
  }

  /**
   * Connects to every other member ({@code members}: by index, as for {@link #open}); on failure
   * the group is closed.
   *
   * @throws PlaneException if a member is not reachable, or has not opened its group, by the
   *     deadline, or the group was closed meanwhile
   */
  public void connect(List<InetSocketAddress> members, long deadlineNanos) {
    try {
      for (int k = 1; k < size; k++) {
        int v = (self + k) % size;
        connect(v, members.get(v), deadlineNanos);
      }
    } catch (PlaneException e) {
      close();
      throw e;
    }
  }

  /**
   * Opens the observer of a group of {@code plan.size()} workers on {@code server}: it connects to
   * no one; the workers connect to it and send it their completed slices ({@link #observeRound}).
   */
  public static PlaneGroup observe(
      PlaneServer server,
      String jobId,
      long epoch,
      ReductionTree tree,
      List<List<TreeNode>> plan,
      int length) {
    return register(server, jobId, epoch, plan.size(), tree, plan, length, true);
  }

  private static PlaneGroup register(
      PlaneServer server,
      String jobId,
      long epoch,
      int self,
      ReductionTree tree,
      List<List<TreeNode>> plan,
      int length,
      boolean observed) {
    GroupKey key = new GroupKey(PlaneServer.jobKey(jobId), epoch, self);
    PlaneGroup g = new PlaneGroup(server, key, tree, plan, length, observed);
    server.register(key, g);
    return g;
  }

  public int self() {
    return self;
  }

  /** The group's workers (an observer not counted). */
  public int workers() {
    return workers;
  }

  /** Whether the group can still run rounds: not closed, not failed. */
  public boolean isOpen() {
    return !closed && inbox.failure() == null;
  }

  /** Bytes this member has written to its peers so far, headers included. */
  public long bytesSent() {
    return bytesSent.get();
  }

  /**
   * The round's sum over every member's nodes, with the bits of {@link ReductionTree#reduce}.
   *
   * @param own this member's node sums, in the order of its nodes in the plan; only read
   * @param out receives the summed gradient (all P floats); the returned value holds it
   * @throws PlaneException if the group failed or fails before the sum is complete
   */
  public GradientSum allreduce(long round, List<GradientSum> own, float[] out, long deadlineNanos) {
    if (self == workers) {
      throw new IllegalStateException("the observer takes slices (observeRound), it sums none");
    }
    inbox.open(round, out);
    int from = slices.from(self);
    int len = slices.size(self);
    for (int i = 0; i < mine.size(); i++) {
      GradientSum s = own.get(i);
      System.arraycopy(s.grad(), from, inbox.part(mine.get(i)), 0, len);
      inbox.own(mine.get(i), s.lossSum(), s.samples());
    }
    // Waits end themselves at the deadline; a blocked send (a peer that stopped reading) cannot,
    // so the watchdog closes the sockets a little later, after a wait would have said who is late.
    ScheduledFuture<?> watch =
        WATCHDOG.schedule(
            () -> fail(lateSend(round), sendingTo),
            Math.max(0, deadlineNanos - System.nanoTime()) + WATCHDOG_GRACE_NANOS,
            TimeUnit.NANOSECONDS);
    try {
      for (int k = 1; k < workers; k++) {
        int v = (self + k) % workers;
        for (int i = 0; i < mine.size(); i++) {
          GradientSum s = own.get(i);
          Frame f =
              new Frame(
                  Frame.Kind.PART,
                  key.epoch(),
                  round,
                  self,
                  mine.get(i),
                  slices.size(v),
                  s.lossSum(),
                  s.samples());
          send(v, f, s.grad(), slices.from(v));
        }
      }
      inbox.awaitParts(deadlineNanos);
      GradientSum slice = tree.reduce(tree.root(), this::knownPart, g -> {});
      System.arraycopy(slice.grad(), 0, out, from, len);
      for (int k = 1; k < size; k++) {
        int v = (self + k) % size;
        send(
            v,
            new Frame(
                Frame.Kind.SLICE,
                key.epoch(),
                round,
                self,
                null,
                len,
                slice.lossSum(),
                slice.samples()),
            out,
            from);
      }
      inbox.awaitSlices(deadlineNanos);
      return new GradientSum(out, slice.lossSum(), slice.samples());
    } catch (PlaneException e) {
      fail(e.getMessage(), e.peer()); // a group that missed a round is done: a new view follows
      throw new PlaneException(inbox.failure(), inbox.blamed(), e);
    } finally {
      watch.cancel(false);
    }
  }

  /**
   * The observer's view of {@code round}: every worker's completed slice, into {@code out}, with
   * the loss sum and sample count they all carry (they must agree).
   *
   * @throws PlaneException if the group failed or fails before every slice is in
   */
  public GradientSum observeRound(long round, float[] out, long deadlineNanos) {
    if (self != workers) {
      throw new IllegalStateException("worker " + self + " is a member, not the observer");
    }
    inbox.open(round, out);
    try {
      inbox.awaitSlices(deadlineNanos);
      return new GradientSum(out, inbox.sliceLoss(), inbox.sliceSamples());
    } catch (PlaneException e) {
      fail(e.getMessage(), e.peer());
      throw new PlaneException(inbox.failure(), inbox.blamed(), e);
    }
  }

  private GradientSum knownPart(TreeNode n) {
    return nodes.contains(n)
        ? new GradientSum(inbox.part(n), inbox.partLoss(n), inbox.partSamples(n))
        : null;
  }

  private String lateSend(long round) {
    int peer = sendingTo;
    return peer < 0
        ? "round " + round + " did not complete by its deadline"
        : "round "
            + round
            + ": worker "
            + peer
            + " did not take what was sent to it by the deadline";
  }

  private void send(int peer, Frame f, float[] data, int offset) {
    sendingTo = peer;
    try {
      OutputStream o = out[peer];
      f.encode(header);
      o.write(header.array(), 0, Frame.BYTES);
      for (int done = 0; done < f.count(); ) {
        int n = Math.min(f.count() - done, CHUNK_BYTES / Float.BYTES);
        chunkFloats.clear();
        chunkFloats.put(data, offset + done, n);
        o.write(chunk.array(), 0, n * Float.BYTES);
        done += n;
      }
      o.flush();
      bytesSent.addAndGet(Frame.BYTES + (long) f.count() * Float.BYTES);
      sendingTo = -1;
    } catch (IOException e) {
      fail(
          "round " + f.round() + ": sending to worker " + peer + " failed: " + e.getMessage(),
          peer);
      throw new PlaneException(inbox.failure(), inbox.blamed(), e);
    }
  }

  private void connect(int v, InetSocketAddress to, long deadlineNanos) {
    String last = "it has not opened the group";
    for (long backoff = 1_000_000; ; backoff = Math.min(backoff * 2, 100_000_000)) {
      long left = deadlineNanos - System.nanoTime();
      if (closed) {
        throw new PlaneException(
            "epoch " + key.epoch() + ": the group was closed while connecting to worker " + v);
      }
      if (left <= 0) {
        throw new PlaneException(
            "epoch "
                + key.epoch()
                + ": no data-plane connection to worker "
                + v
                + " at "
                + to.getHostString()
                + ":"
                + to.getPort()
                + " before the deadline ("
                + last
                + ")",
            v);
      }
      Socket s = null;
      try {
        if (to.isUnresolved()) {
          to = new InetSocketAddress(to.getHostString(), to.getPort()); // resolved off the actors
        }
        s = server.newSocket();
        int millis = (int) Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 5_000));
        s.connect(to, millis);
        s.setSoTimeout(millis);
        if (s instanceof SSLSocket secure) {
          secure.startHandshake();
        }
        new Hello(key.job(), key.epoch(), self, v, size).encode(header);
        s.getOutputStream().write(header.array(), 0, PlaneServer.HELLO_BYTES);
        s.getOutputStream().flush();
        if (s.getInputStream().read() == 1) {
          s.setSoTimeout(0);
          outgoing[v] = s;
          out[v] = s.getOutputStream();
          return;
        }
        last = "it has not opened the group";
      } catch (java.net.ConnectException e) {
        // Nothing listens there: the node is gone (its port opens when it starts, before any job).
        PlaneServer.closeQuietly(s);
        throw new PlaneException(
            "epoch "
                + key.epoch()
                + ": worker "
                + v
                + "'s node refused the connection ("
                + e.getMessage()
                + ")",
            v);
      } catch (IOException e) {
        last = e.getMessage();
      }
      PlaneServer.closeQuietly(s);
      LockSupport.parkNanos(Math.min(backoff, Math.max(0, left)));
    }
  }

  /** Takes a peer's connection the server has read {@code h} on; false to refuse it. */
  synchronized boolean accept(Hello h, Socket s, InputStream in) throws IOException {
    if (closed
        || h.size() != size
        || h.from() < 0
        || h.from() >= workers
        || h.from() == self
        || incoming[h.from()] != null) {
      return false;
    }
    s.getOutputStream().write(1);
    s.getOutputStream().flush();
    s.setSoTimeout(0);
    incoming[h.from()] = s;
    int peer = h.from();
    PlaneServer.daemon(() -> read(peer, in), "anvil-plane-w" + self + "-from-w" + peer).start();
    return true;
  }

  /** A reader: takes frames from {@code peer} into the inbox until the group closes or fails. */
  private void read(int peer, InputStream raw) {
    DataInputStream in = new DataInputStream(raw);
    byte[] head = new byte[Frame.BYTES];
    ByteBuffer headBuffer = ByteBuffer.wrap(head);
    byte[] bytes = new byte[CHUNK_BYTES];
    FloatBuffer floats = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    try {
      while (!closed) {
        in.readFully(head);
        Frame f = Frame.decode(headBuffer);
        Inbox.Destination d = inbox.accept(peer, f);
        for (int done = 0; done < f.count(); ) {
          int n = Math.min(f.count() - done, CHUNK_BYTES / Float.BYTES);
          in.readFully(bytes, 0, n * Float.BYTES);
          floats.clear();
          floats.get(d.array(), d.offset() + done, n);
          done += n;
        }
        inbox.delivered(f);
      }
    } catch (EOFException e) {
      fail("worker " + peer + " closed its data-plane connection", peer);
    } catch (IOException e) {
      fail("the data-plane connection from worker " + peer + " failed: " + e.getMessage(), peer);
    } catch (PlaneException e) {
      fail(e.getMessage(), e.peer());
    }
  }

  /** Fails the group for good and closes its connections, which ends blocked sends and reads. */
  private void fail(String why, int peer) {
    inbox.fail("data plane of worker " + self + ", epoch " + key.epoch() + ": " + why, peer);
    closeSockets();
  }

  private synchronized void closeSockets() {
    for (int v = 0; v < size; v++) {
      if (incoming[v] != null) {
        PlaneServer.closeQuietly(incoming[v]);
      }
      if (outgoing[v] != null) {
        PlaneServer.closeQuietly(outgoing[v]);
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.deregister(key, this);
    inbox.fail("data plane of worker " + self + ", epoch " + key.epoch() + ": closed", -1);
    closeSockets();
  }
}
