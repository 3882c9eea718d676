package dev.anvil.runtime.client;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.coordinator.JobCoordinator;
import dev.anvil.runtime.node.AnvilConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * An actor system that joins a cluster as a client member (role "client"): it can submit jobs with
 * {@link JobClient} but hosts no workers or coordinators and never counts for the split-brain
 * resolver's majority. It lists every node it is given as a seed, so that it can join while some of
 * them are down; once up, {@link ClusterLoss} tells its waits when the cluster is lost.
 */
public final class ClusterClient {
  private ClusterClient() {}

  /**
   * Joins through {@code seeds} (host:port, comma-separated) and returns once this member is up; it
   * advertises the local address that routes to the first seed ({@link ClientAddress}).
   */
  public static ActorSystem<Void> join(String seeds, Duration timeout) {
    return join(seeds, timeout, ConfigFactory.empty());
  }

  /**
   * Configuration for a client with the member credentials in {@code tlsFolder} (anvil certs issue,
   * or a local cluster's {@code tls} folder); without it a client talks plain TCP.
   */
  public static Config tls(Path tlsFolder) {
    return ConfigFactory.parseMap(
        Map.of("anvil.tls.directory", tlsFolder.toAbsolutePath().toString()));
  }

  /** As {@link #join(String, Duration)}, with {@code extra} configuration for the client. */
  public static ActorSystem<Void> join(String seeds, Duration timeout, Config extra) {
    return join(parseSeeds(seeds), timeout, extra);
  }

  /** As {@link #join(List, ClientAddress, Duration, Config)}, advertising the routed address. */
  public static ActorSystem<Void> join(List<String> seeds, Duration timeout, Config extra) {
    requireSeeds(seeds);
    return join(seeds, ClientAddress.routingTo(seeds), timeout, extra);
  }

  /**
   * Joins through any of {@code seeds} (host:port each), advertising {@code self} (the nodes
   * connect back to it), and returns once this member is up. After {@code timeout} it fails with
   * the seeds, the address it advertised and what to check.
   */
  public static ActorSystem<Void> join(
      List<String> seeds, ClientAddress self, Duration timeout, Config extra) {
    requireSeeds(seeds);
    ActorSystem<Void> client =
        ActorSystem.create(
            Behaviors.empty(),
            "anvil",
            AnvilConfig.load(
                ConfigFactory.parseMap(
                        Map.of(
                            "anvil.node.role",
                            "client",
                            "pekko.remote.artery.canonical.hostname",
                            self.host(),
                            "pekko.remote.artery.canonical.port",
                            self.port(),
                            "pekko.remote.artery.bind.hostname",
                            ClientAddress.bindHost(self, ClientAddress.isLocal(self.host())),
                            "pekko.cluster.seed-nodes",
                            seeds.stream().map(s -> "pekko://anvil@" + s).toList(),
                            "pekko.cluster.shutdown-after-unsuccessful-join-seed-nodes",
                            timeout.toMillis() + 5000 + "ms"))
                    .withFallback(extra)));
    JobCoordinator.init(client, "node");
    long deadline = System.nanoTime() + timeout.toNanos();
    Cluster cluster = Cluster.get(client);
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        String advertised = cluster.selfMember().address().toString();
        client.terminate();
        throw new IllegalStateException(joinTimedOut(seeds, advertised, timeout));
      }
      try {
        TimeUnit.MILLISECONDS.sleep(50); // polling membership
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        client.terminate();
        throw new IllegalStateException("interrupted while joining " + String.join(", ", seeds), e);
      }
    }
    ClusterLoss.get(client); // from now on, a lost cluster ends every wait on it
    return client;
  }

  /** What went wrong when no node let this client in: where to look, on both sides. */
  static String joinTimedOut(List<String> seeds, String advertised, Duration timeout) {
    return "could not join the cluster at "
        + String.join(", ", seeds)
        + " within "
        + timeout.toSeconds()
        + " s. Is a node running there? This client advertised "
        + advertised
        + ": the nodes must reach it back at that address and port (a firewall"
        + " must let them in; --host HOST[:PORT] sets what this client advertises). A cluster"
        + " with mutual TLS takes a member certificate of its CA: --tls DIR.";
  }

  private static void requireSeeds(List<String> seeds) {
    if (seeds.isEmpty()) {
      throw new IllegalArgumentException(
          "--cluster: no node address given; expected" + " HOST:PORT[,HOST:PORT...]");
    }
  }

  /** {@code HOST:PORT[,HOST:PORT...]} as a list; a malformed entry is named in the error. */
  public static List<String> parseSeeds(String seeds) {
    List<String> out = new java.util.ArrayList<>();
    for (String s : seeds.split(",", -1)) {
      String seed = s.trim();
      if (!seed.matches("[A-Za-z0-9.\\-]{1,253}:\\d{1,5}") || !validPort(seed)) {
        throw new IllegalArgumentException(
            "--cluster = "
                + (seed.length() > 60 ? seed.substring(0, 60) + "..." : seed)
                + ": expected HOST:PORT of a node (or"
                + " several, comma-separated), port 1-65535");
      }
      out.add(seed);
    }
    return out;
  }

  private static boolean validPort(String hostPort) {
    int port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }
}
