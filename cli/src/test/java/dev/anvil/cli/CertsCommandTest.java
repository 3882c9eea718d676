package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.cli.MainTest.Outcome;
import dev.anvil.runtime.node.SingleNode;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code anvil certs}: a CA and a member certificate signed by it, owner-only files, clear errors;
 * and {@code anvil node} refusing plain TCP off loopback (before any connection).
 */
class CertsCommandTest {
  @TempDir Path dir;

  @Test
  void initAndIssueWriteACaAndAMemberItSigned() throws Exception {
    Path ca = dir.resolve("ca");
    Outcome init = MainTest.anvil("certs", "init", "--dir", ca.toString(), "--days", "30");
    assertEquals(0, init.code(), init.err());
    Outcome again = MainTest.anvil("certs", "init", "--dir", ca.toString());
    assertEquals(2, again.code());
    assertTrue(again.err().contains("already holds a CA"), again.err());

    Path member = dir.resolve("node-1");
    Outcome issue =
        MainTest.anvil(
            "certs",
            "issue",
            "--ca",
            ca.toString(),
            "--name",
            "node-1",
            "--ip",
            "10.0.0.1,127.0.0.1",
            "--dns",
            "node-1.example",
            "--out",
            member.toString());
    assertEquals(0, issue.code(), issue.err());
    for (String f : List.of("node.p12", "trust.p12", "password", "tls.key", "tls.crt", "ca.crt")) {
      assertEquals(
          "rw-------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(member.resolve(f))),
          f);
    }
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(member)));
    CertificateFactory x509 = CertificateFactory.getInstance("X.509");
    X509Certificate cert;
    X509Certificate caCert;
    try (InputStream a = Files.newInputStream(member.resolve("tls.crt"));
        InputStream b = Files.newInputStream(ca.resolve("ca.crt"))) {
      cert = (X509Certificate) x509.generateCertificate(a);
      caCert = (X509Certificate) x509.generateCertificate(b);
    }
    cert.verify(caCert.getPublicKey());
    String names = cert.getSubjectAlternativeNames().toString();
    assertTrue(
        names.contains("10.0.0.1")
            && names.contains("node-1.example")
            && names.contains("anvil-cluster"),
        names);
    assertTrue(cert.getSubjectX500Principal().getName().contains("CN=node-1"));

    Outcome badIp =
        MainTest.anvil(
            "certs",
            "issue",
            "--ca",
            ca.toString(),
            "--name",
            "x",
            "--ip",
            "example.com",
            "--out",
            dir.resolve("x").toString());
    assertEquals(2, badIp.code());
    assertTrue(badIp.err().contains("--ip example.com: not an IP address"), badIp.err());
    Outcome noCa =
        MainTest.anvil(
            "certs",
            "issue",
            "--ca",
            dir.toString(),
            "--name",
            "x",
            "--out",
            dir.resolve("y").toString());
    assertEquals(2, noCa.code());
    assertTrue(noCa.err().contains("holds no ca.p12"), noCa.err());
  }

  /** A node with its certificate serves the API over HTTPS; the CLI trusts it with --tls. */
  @Test
  void theCliTalksHttpsToANodeWithItsCertificate() throws Exception {
    Path ca = dir.resolve("ca");
    Path member = dir.resolve("member");
    assertEquals(0, MainTest.anvil("certs", "init", "--dir", ca.toString()).code());
    assertEquals(
        0,
        MainTest.anvil(
                "certs",
                "issue",
                "--ca",
                ca.toString(),
                "--name",
                "n1",
                "--ip",
                "127.0.0.1",
                "--out",
                member.toString())
            .code());
    try (SingleNode node =
        SingleNode.start(
            dir.resolve("node"),
            java.util.Map.of(
                "anvil.worker.slots",
                1,
                "anvil.tls.directory",
                member.toString(),
                "anvil.http.https",
                true,
                "anvil.http.token",
                "certs-command-test-" + System.nanoTime()))) {
      String url = node.node().httpUrl().orElseThrow();
      String api = url.replace("https://", "");
      assertTrue(url.startsWith("https://"), url);
      Outcome ok = MainTest.anvil("status", "--cluster", api, "--tls", member.toString());
      assertEquals(0, ok.code(), ok.err());
      assertTrue(ok.out().contains("no jobs"), ok.out());
      Outcome plain = MainTest.anvil("status", "--cluster", api, "--timeout", "10");
      assertTrue(plain.code() != 0, "plain HTTP to an HTTPS API answered: " + plain.out());
    }
  }

  @Test
  void aNodeOffLoopbackWithoutACertificateDoesNotStart() {
    Outcome o =
        MainTest.anvil(
            "node",
            "--host",
            "10.9.9.9",
            "--port",
            "25520",
            "--seed",
            "10.9.9.9:25520",
            "--db",
            "jdbc:postgresql://127.0.0.1:1/anvil");
    assertEquals(2, o.code());
    assertTrue(
        o.err().contains("listens on 10.9.9.9 without TLS")
            && o.err().contains("--insecure-transport"),
        o.err());
  }
}
