package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.cli.MainTest.Outcome;
import dev.anvil.runtime.node.SingleNode;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code anvil checkpoint --host}: the client advertises the address given, and the node connects
 * back to it there. A one-node cluster in this JVM listens on 127.0.0.1; the client advertises
 * other loopback addresses (127.0.0.2, 127.0.0.3), so the join works only when the node reaches it
 * back at the address advertised. The job does not exist: the cluster's answer ("there is no job")
 * proves the client was let in.
 */
class ClientHostTest {
  @TempDir static Path dir;
  static SingleNode cluster;

  @BeforeAll
  static void start() {
    cluster = SingleNode.start(dir, Map.of("anvil.http.port", 0));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The node's cluster address as --cluster takes it: 127.0.0.1:PORT. */
  private static String clusterPort() {
    String address = cluster.node().address();
    return address.substring(address.indexOf('@') + 1);
  }

  private static Outcome export(String... host) {
    String[] args =
        new String[] {
          "checkpoint",
          "export",
          "no-such-job",
          dir.resolve("out.ckpt").toString(),
          "--cluster",
          clusterPort(),
          "--timeout",
          "30"
        };
    String[] all = java.util.Arrays.copyOf(args, args.length + host.length);
    System.arraycopy(host, 0, all, args.length, host.length);
    return MainTest.anvil(all);
  }

  @Test
  void theNodeReachesTheClientBackAtTheAddressItAdvertises() {
    Outcome o = export("--host", "127.0.0.2");
    assertEquals(2, o.code(), o.out() + o.err());
    assertTrue(o.err().contains("there is no job no-such-job here"), o.err());
  }

  @Test
  void hostTakesAFixedPort() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Outcome o = export("--host", "127.0.0.3:" + port);
    assertEquals(2, o.code(), o.out() + o.err());
    assertTrue(o.err().contains("there is no job no-such-job here"), o.err());
  }

  @Test
  void aMalformedHostIsRefusedBeforeJoining() {
    Outcome o = export("--host", "127.0.0.2:0");
    assertEquals(2, o.code(), o.err());
    assertEquals(
        "anvil: --host = 127.0.0.2:0: expected HOST or HOST:PORT, port 1-65535\n", o.err());
  }

  @Test
  void trainTakesHostOnlyWithCluster() {
    Outcome o =
        MainTest.anvil(
            "train",
            "--job",
            MainTest.EXAMPLES.resolve("synthetic-mlp.conf").toString(),
            "--nodes",
            "1",
            "--host",
            "127.0.0.2");
    assertEquals(2, o.code(), o.err());
    assertTrue(
        o.err()
            .contains(
                "--host and --tls are how this process joins a running"
                    + " cluster: they go with --cluster"),
        o.err());
    assertFalse(o.out().contains("starting a local cluster"), o.out());
  }
}
