package dev.anvil.runtime.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.runtime.node.AnvilConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member's TLS folder: what a node refuses to start with, and that both of Pekko's providers
 * accept what {@code anvil certs} writes (the key stores, and the PEM files of the rotating-keys
 * provider Kubernetes secrets are mounted for).
 */
class TlsFilesTest {
  @TempDir static Path dir;
  static ClusterCa ca;

  @BeforeAll
  static void makeCa() {
    ca = ClusterCa.create("test", Duration.ofDays(1));
  }

  static Path member(String name) {
    Path folder = dir.resolve(name);
    ca.issue(name, List.of("127.0.0.1"), List.of(), Duration.ofDays(1)).save(folder);
    return folder;
  }

  @Test
  void aFolderIsRefusedWhenIncompleteReadableByOthersOrExpired() throws Exception {
    Path ok = member("ok");
    Config config =
        TlsFiles.apply(
            ConfigFactory.parseMap(Map.of("anvil.tls.directory", ok.toString()))
                .withFallback(ConfigFactory.defaultReference()));
    assertEquals("tls-tcp", config.getString("pekko.remote.artery.transport"));
    assertTrue(
        config.getBoolean(
            "pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication"));
    assertEquals("TLSv1.3", config.getString("pekko.remote.artery.ssl.config-ssl-engine.protocol"));

    Path open = member("open");
    Files.setPosixFilePermissions(
        open.resolve("node.p12"), PosixFilePermissions.fromString("rw-r--r--"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> TlsFiles.check(open))
            .getMessage()
            .contains("chmod 600"));
    Path partial = member("partial");
    Files.delete(partial.resolve("trust.p12"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> TlsFiles.check(partial))
            .getMessage()
            .contains("has no trust.p12"));
    Path expired = dir.resolve("expired");
    ca.issue(
            "expired",
            List.of("127.0.0.1"),
            List.of(),
            Instant.now().minus(Duration.ofDays(3)),
            Instant.now().minus(Duration.ofDays(1)))
        .save(expired);
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> TlsFiles.check(expired))
            .getMessage()
            .contains("expired on"));
  }

  /** Two members with Pekko's rotating-keys provider on the PEM files form a cluster. */
  @Test
  void thePemFilesServePekkosRotatingKeysProvider() throws Exception {
    ActorSystem<Void> a = ActorSystem.create(Behaviors.empty(), "anvil", pem(member("a")));
    ActorSystem<Void> b = ActorSystem.create(Behaviors.empty(), "anvil", pem(member("b")));
    try {
      Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
      Cluster.get(b).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (Cluster.get(b).selfMember().status() != MemberStatus.up()
          && System.nanoTime() < deadline) {
        Thread.sleep(100); // polling membership
      }
      assertEquals(MemberStatus.up(), Cluster.get(b).selfMember().status());
    } finally {
      a.terminate();
      b.terminate();
    }
  }

  static Config pem(Path folder) {
    String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
    Map<String, Object> m =
        new HashMap<>(
            Map.of(
                "anvil.node.role",
                "client",
                "pekko.remote.artery.canonical.port",
                0,
                "pekko.remote.artery.transport",
                "tls-tcp",
                "pekko.remote.artery.ssl.ssl-engine-provider",
                "org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider",
                engine + "key-file",
                folder.resolve("tls.key").toString(),
                engine + "cert-file",
                folder.resolve("tls.crt").toString(),
                engine + "ca-cert-file",
                folder.resolve("ca.crt").toString()));
    return AnvilConfig.load(ConfigFactory.parseMap(m));
  }
}
