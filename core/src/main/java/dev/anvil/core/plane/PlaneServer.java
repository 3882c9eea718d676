package dev.anvil.core.plane;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's data-plane port: peers of the node's workers connect here, one connection per sending
 * worker and receiving worker. With a TLS context both ends must hold a certificate of the
 * cluster's CA (mutual TLS); without one the port is plain TCP, as Artery is in an insecure
 * cluster. A connection starts with a 64-byte hello naming the job (its SHA-256), the epoch, the
 * sender and the receiver; it is handed to the receiver's {@link PlaneGroup} if that group is open
 * here and answered 1, and closed after an answer 0 otherwise (the sender retries within its
 * deadline: groups open on every member at about the same time, not at once).
 */
public final class PlaneServer implements AutoCloseable {
  static final int HELLO_BYTES = 64;
  static final int HELLO_MAGIC = 0x48564e41; // "ANVH" read little-endian
  static final int VERSION = 1;
  private static final Logger log = LoggerFactory.getLogger(PlaneServer.class);
  private static final int HANDSHAKE_MILLIS = 5_000;
  private static final int MAX_HANDSHAKES = 8;
  static final int SOCKET_BUFFER = 1 << 20;

  private final ServerSocket listener;
  private final SSLContext tls;
  private final Map<GroupKey, PlaneGroup> groups = new ConcurrentHashMap<>();
  private final ThreadPoolExecutor handshakes;
  private final Thread acceptor;

  private PlaneServer(ServerSocket listener, SSLContext tls) {
    this.listener = listener;
    this.tls = tls;
    this.handshakes =
        new ThreadPoolExecutor(
            0,
            MAX_HANDSHAKES,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> daemon(r, "anvil-plane-handshake"));
    this.acceptor = daemon(this::acceptLoop, "anvil-plane-accept");
  }

  /**
   * Listens on {@code bind} (port 0 picks a free one).
   *
   * @param tls the cluster's mutual-TLS context, or null for plain TCP
   */
  public static PlaneServer start(InetSocketAddress bind, SSLContext tls) throws IOException {
    ServerSocket s;
    if (tls == null) {
      s = new ServerSocket();
    } else {
      SSLServerSocket secure = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
      secure.setNeedClientAuth(true);
      s = secure;
    }
    s.setReceiveBufferSize(SOCKET_BUFFER);
    s.bind(bind);
    PlaneServer server = new PlaneServer(s, tls);
    server.acceptor.start();
    log.info(
        "data plane listening on {}:{} ({})",
        s.getInetAddress().getHostAddress(),
        s.getLocalPort(),
        tls == null ? "plain TCP" : "mutual TLS");
    return server;
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
  }

  /** Whether connections are mutual TLS. */
  public boolean secure() {
    return tls != null;
  }

  /** An unconnected socket of this server's kind, for a group's outgoing connections. */
  Socket newSocket() throws IOException {
    Socket s = tls == null ? new Socket() : tls.getSocketFactory().createSocket();
    s.setTcpNoDelay(true);
    s.setSendBufferSize(SOCKET_BUFFER);
    s.setReceiveBufferSize(SOCKET_BUFFER);
    return s;
  }

  void register(GroupKey key, PlaneGroup group) {
    if (groups.putIfAbsent(key, group) != null) {
      throw new IllegalStateException("a data-plane group is already open for " + key);
    }
  }

  void deregister(GroupKey key, PlaneGroup group) {
    groups.remove(key, group);
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        if (!listener.isClosed()) {
          log.warn("data plane: accept failed: {}", e.toString());
        }
        continue;
      }
      try {
        handshakes.execute(() -> handshake(s));
      } catch (RejectedExecutionException e) {
        closeQuietly(s); // more than MAX_HANDSHAKES at once: the sender retries
      }
    }
  }

  private void handshake(Socket s) {
    try {
      s.setSoTimeout(HANDSHAKE_MILLIS);
      s.setTcpNoDelay(true);
      if (s instanceof SSLSocket secure) {
        secure.startHandshake();
      }
      InputStream in = s.getInputStream();
      byte[] hello = new byte[HELLO_BYTES];
      new DataInputStream(in).readFully(hello);
      Hello h = Hello.decode(ByteBuffer.wrap(hello));
      PlaneGroup group = groups.get(new GroupKey(h.job(), h.epoch(), h.to()));
      if (group == null || !group.accept(h, s, in)) {
        s.getOutputStream().write(0);
        s.close();
      }
    } catch (IOException | PlaneException e) {
      log.debug("data plane: refused a connection from {}: {}", s.getRemoteSocketAddress(), e);
      closeQuietly(s);
    }
  }

  @Override
  public void close() {
    closeQuietly(listener);
    handshakes.shutdownNow();
    groups.values().forEach(PlaneGroup::close);
  }

  static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing after a failure: the failure is what gets reported
    }
  }

  /** The job id as the hello carries it: hex of its SHA-256. */
  static String jobKey(String jobId) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(jobId.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  /** A group's address on a node: one worker of one job epoch. */
  record GroupKey(String job, long epoch, int index) {}

  /** The first 64 bytes of a connection, little-endian. */
  record Hello(String job, long epoch, int from, int to, int size) {
    void encode(ByteBuffer out) {
      out.clear().order(ByteOrder.LITTLE_ENDIAN);
      out.putInt(HELLO_MAGIC).putInt(VERSION).put(HexFormat.of().parseHex(job));
      out.putLong(epoch).putInt(from).putInt(to).putInt(size).putInt(0);
      out.flip();
    }

    static Hello decode(ByteBuffer in) {
      in.order(ByteOrder.LITTLE_ENDIAN);
      if (in.getInt(0) != HELLO_MAGIC || in.getInt(4) != VERSION) {
        throw new PlaneException("not a data-plane hello of version " + VERSION);
      }
      byte[] job = new byte[32];
      in.get(8, job);
      return new Hello(
          HexFormat.of().formatHex(job),
          in.getLong(40),
          in.getInt(48),
          in.getInt(52),
          in.getInt(56));
    }
  }
}
