package dev.anvil.runtime.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.train.TreeNode;
import dev.anvil.runtime.HostileSerializer;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.runtime.node.AnvilConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS keeps the cluster closed: with two real node JVMs on a cluster CA, a member without
 * TLS, with a self-signed certificate, with one of another CA and with an expired one of the right
 * CA each tries for 30 s to join and to send the nodes a message whose bytes the decoder would
 * refuse; none becomes a member and no node decodes anything of theirs. A member with a valid
 * certificate joins, and its same message reaches the decoder (which refuses it): the check that
 * would have seen the rogues' messages works.
 */
class RogueMemberTest {
  private static final String REFUSED = "refused a message of";

  @TempDir Path dir;

  @Test
  void onlyAMemberWithACertificateOfTheClusterCaJoins() throws Exception {
    ClusterCa ca = ClusterCa.create("test cluster", Duration.ofDays(1));
    Path valid = dir.resolve("valid");
    ca.issue("node", List.of("127.0.0.1"), List.of(), Duration.ofDays(1)).save(valid);
    Map<String, Path> rogues = new LinkedHashMap<>();
    rogues.put("plain TCP", null);
    rogues.put(
        "self-signed",
        save(ClusterCa.create("self", Duration.ofDays(1)).asSelfSignedMember(), "self-signed"));
    rogues.put(
        "another CA",
        save(
            ClusterCa.create("other", Duration.ofDays(1))
                .issue("node", List.of("127.0.0.1"), List.of(), Duration.ofDays(1)),
            "other-ca"));
    rogues.put(
        "expired",
        save(
            ca.issue(
                "node",
                List.of("127.0.0.1"),
                List.of(),
                Instant.now().minus(Duration.ofDays(10)),
                Instant.now().minus(Duration.ofDays(1))),
            "expired"));

    try (LocalCluster cluster =
        LocalCluster.start(
            LocalClusterSettings.of(2, 1, dir.resolve("cluster"))
                .withTls(false)
                .withTlsFolder(valid))) {
      List<String> seeds = cluster.addresses().stream().map(a -> "pekko://anvil@" + a).toList();
      Map<String, ActorSystem<Void>> started = new HashMap<>();
      try {
        for (var r : rogues.entrySet()) {
          started.put(
              r.getKey(),
              ActorSystem.create(Behaviors.empty(), "anvil", rogueConfig(seeds, r.getValue())));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
          for (var r : started.entrySet()) {
            sendHostile(r.getValue(), cluster.addresses());
            assertFalse(isMember(cluster.client(), r.getValue()), r.getKey() + " joined");
            assertFalse(
                Cluster.get(r.getValue()).selfMember().status() == MemberStatus.up(),
                r.getKey() + " thinks it is up");
          }
          Thread.sleep(1000); // the rogues keep trying; membership is polled
        }
      } finally {
        started.values().forEach(ActorSystem::terminate);
      }
      for (int i = 0; i < cluster.size(); i++) {
        String log = Files.readString(cluster.logFile(i));
        assertFalse(log.contains(REFUSED), "node " + (i + 1) + " decoded a rogue's message");
      }

      // The positive control: a valid certificate joins, and its message is decoded (and
      // refused by the decoder, which the rogues never reached).
      ActorSystem<Void> member =
          ActorSystem.create(Behaviors.empty(), "anvil", rogueConfig(seeds, valid));
      try {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!isMember(cluster.client(), member) && System.nanoTime() < until) {
          Thread.sleep(200); // polling membership
        }
        assertTrue(isMember(cluster.client(), member), "a valid certificate did not join");
        long decoded = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        boolean seen = false;
        while (!seen && System.nanoTime() < decoded) {
          sendHostile(member, cluster.addresses());
          Thread.sleep(500); // polling the nodes' logs
          for (int i = 0; i < cluster.size() && !seen; i++) {
            seen = Files.readString(cluster.logFile(i)).contains(REFUSED);
          }
        }
        assertTrue(seen, "the valid member's message never reached a node's decoder");
      } finally {
        member.terminate();
      }
      assertEquals(2, cluster.nodesUp());
    }
  }

  private Path save(MemberCredentials credentials, String name) {
    Path folder = dir.resolve(name);
    credentials.save(folder);
    return folder;
  }

  /**
   * A member's configuration with Pekko's TLS settings for {@code folder} set directly (a rogue
   * skips Anvil's checks of its own files), or plain TCP; its Anvil messages are written by a
   * serializer whose bytes Anvil's decoder refuses.
   */
  static Config rogueConfig(List<String> seeds, Path folder) throws Exception {
    Map<String, Object> m =
        new HashMap<>(
            Map.of(
                "anvil.node.role",
                "client",
                "pekko.loglevel",
                "ERROR", // a rogue's failed handshakes, every second
                "pekko.remote.artery.canonical.port",
                0,
                "pekko.cluster.seed-nodes",
                seeds,
                "pekko.actor.serializers.anvil-kryo",
                HostileSerializer.class.getName()));
    if (folder != null) {
      String password = Files.readString(folder.resolve(TlsFiles.PASSWORD)).trim();
      String ssl = "pekko.remote.artery.ssl.config-ssl-engine.";
      m.put("pekko.remote.artery.transport", "tls-tcp");
      m.put(ssl + "key-store", folder.resolve(TlsFiles.KEY_STORE).toString());
      m.put(ssl + "trust-store", folder.resolve(TlsFiles.TRUST_STORE).toString());
      m.put(ssl + "key-store-password", password);
      m.put(ssl + "key-password", password);
      m.put(ssl + "trust-store-password", password);
    }
    return AnvilConfig.load(ConfigFactory.parseMap(m));
  }

  /** Whether the cluster, as {@code observer} sees it, has {@code system} as a member. */
  static boolean isMember(ActorSystem<?> observer, ActorSystem<?> system) {
    var address = Cluster.get(system).selfMember().address();
    return StreamSupport.stream(Cluster.get(observer).state().getMembers().spliterator(), false)
        .anyMatch(m -> m.address().equals(address));
  }

  /** A work request to every node's first worker, written by the hostile serializer. */
  static void sendHostile(ActorSystem<?> from, List<String> nodes) {
    for (String node : nodes) {
      Adapter.toClassic(from)
          .actorSelection("pekko://anvil@" + node + "/user/worker-0")
          .tell(
              new ComputeNodes(
                  "job", 1, 1, new float[] {1f}, new TreeNode[] {TreeNode.leaf(0)}, null),
              org.apache.pekko.actor.ActorRef.noSender());
    }
  }
}
