package dev.anvil.runtime.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.plane.PlaneException;
import dev.anvil.core.plane.PlaneGroup;
import dev.anvil.core.plane.PlaneServer;
import dev.anvil.core.train.BlockPlan;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane with the cluster's certificates: members of the cluster's CA sum their gradients
 * over mutual TLS; a member of another CA, one with an expired certificate, and a plain-TCP client
 * are refused in the handshake and never reach a group.
 */
class DataPlaneTlsTest {
  static final ReductionTree TREE = new ReductionTree(4);
  static final List<List<TreeNode>> PLAN = BlockPlan.balanced(TREE, 2);
  static final int LENGTH = 10_000;
  @TempDir static Path dir;
  static ClusterCa ca;

  @BeforeAll
  static void makeCa() {
    ca = ClusterCa.create("plane", Duration.ofDays(1));
  }

  static SSLContext member(ClusterCa issuer, String name, Instant from, Instant to) {
    MemberCredentials c = issuer.issue(name, List.of("127.0.0.1"), List.of(), from, to);
    if (to.isAfter(Instant.now())) {
      Path folder = dir.resolve(name);
      c.save(folder);
      return TlsFiles.sslContext(folder); // what a node uses
    }
    return contextOf(c); // TlsFiles refuses an expired certificate: the peer here does not
  }

  static SSLContext contextOf(MemberCredentials c) {
    try {
      return PemContext.context(c.key(), List.of(c.certificate()), List.of(c.ca()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static SSLContext member(String name) {
    return member(ca, name, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
  }

  static PlaneServer server(SSLContext tls) throws Exception {
    return PlaneServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tls);
  }

  @Test
  void membersOfTheClusterSumOverMutualTls() throws Exception {
    try (PlaneServer a = server(member("a"));
        PlaneServer b = server(member("b"))) {
      List<InetSocketAddress> members = List.of(a.address(), b.address());
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      CompletableFuture<GradientSum> first = sum(a, 0, members, deadline);
      CompletableFuture<GradientSum> second = sum(b, 1, members, deadline);
      float[] expected = new float[LENGTH];
      for (int i = 0; i < LENGTH; i++) {
        expected[i] = (0.1f * i + 1e-3f * i) + (1.0f * i + 7.0f); // left node + right node
      }
      assertArrayEquals(expected, first.get(30, TimeUnit.SECONDS).grad());
      assertArrayEquals(expected, second.get(30, TimeUnit.SECONDS).grad());
      assertEquals(4, first.get().samples());
    }
  }

  @Test
  void aMemberReadingThePemFilesOfTheRotatingKeysProviderSumsWithTheOthers() throws Exception {
    member("pem-folder"); // writes the key stores and the PEM files a Kubernetes secret holds
    SSLContext fromPem = PemContext.of(dir.resolve("pem-folder"));
    try (PlaneServer a = server(fromPem);
        PlaneServer b = server(member("p12"))) {
      List<InetSocketAddress> members = List.of(a.address(), b.address());
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      CompletableFuture<GradientSum> first = sum(a, 0, members, deadline);
      CompletableFuture<GradientSum> second = sum(b, 1, members, deadline);
      assertArrayEquals(
          first.get(30, TimeUnit.SECONDS).grad(), second.get(30, TimeUnit.SECONDS).grad());
    }
  }

  @Test
  void aMemberOfAnotherCaOrWithAnExpiredCertificateIsRefused() throws Exception {
    ClusterCa other = ClusterCa.create("elsewhere", Duration.ofDays(1));
    SSLContext stranger =
        member(other, "stranger", Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
    SSLContext expired =
        member(
            ca,
            "expired",
            Instant.now().minus(Duration.ofDays(3)),
            Instant.now().minus(Duration.ofDays(1)));
    for (SSLContext intruder : List.of(stranger, expired)) {
      try (PlaneServer good = server(member("good-" + System.nanoTime()));
          PlaneServer bad = server(intruder)) {
        List<InetSocketAddress> members = List.of(good.address(), bad.address());
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        for (CompletableFuture<GradientSum> side :
            List.of(sum(good, 0, members, deadline), sum(bad, 1, members, deadline))) {
          ExecutionException e =
              assertThrows(ExecutionException.class, () -> side.get(20, TimeUnit.SECONDS));
          assertTrue(e.getCause() instanceof PlaneException, e::toString);
          assertTrue(
              e.getCause().getMessage().contains("no data-plane connection to worker"),
              e.getCause().getMessage());
        }
      }
    }
  }

  @Test
  void aPlainTcpClientGetsNoAnswer() throws Exception {
    try (PlaneServer a = server(member("plain-target"));
        Socket s = new Socket(InetAddress.getLoopbackAddress(), a.address().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(new byte[64]);
      int answer;
      try {
        answer = s.getInputStream().read();
      } catch (java.io.IOException e) {
        answer = -1; // reset by the server: refused just the same
      }
      assertTrue(answer == -1 || answer == 21, "a TLS alert (21) or the end, was " + answer);
    }
  }

  /** Worker {@code w} opens its group and sums one round: node sums i/10 + i/1000, and i + 7. */
  static CompletableFuture<GradientSum> sum(
      PlaneServer server, int w, List<InetSocketAddress> members, long deadline) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (PlaneGroup g =
              PlaneGroup.open(server, "tls", 1, w, members, TREE, PLAN, LENGTH, deadline)) {
            float[] own = new float[LENGTH];
            for (int i = 0; i < LENGTH; i++) {
              own[i] = w == 0 ? 0.1f * i + 1e-3f * i : 1.0f * i + 7.0f;
            }
            return g.allreduce(1, List.of(new GradientSum(own, 0, 2)), new float[LENGTH], deadline);
          }
        });
  }
}
