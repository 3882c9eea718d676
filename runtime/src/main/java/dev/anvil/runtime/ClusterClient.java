package dev.anvil.runtime;

import com.typesafe.config.ConfigFactory;
import dev.anvil.coordinator.JobCoordinator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * An actor system that joins a cluster as a client member (role "client"): it can submit jobs
 * with {@link JobClient} but hosts no workers or coordinators and never counts for the
 * split-brain resolver's majority.
 */
public final class ClusterClient {
  private ClusterClient() {}

  /** Joins through {@code seed} (host:port) and returns once this member is up. */
  public static ActorSystem<Void> join(String seed, Duration timeout) {
    return join(seed, timeout, ConfigFactory.empty());
  }

  /** As {@link #join(String, Duration)}, with {@code extra} configuration for the client. */
  public static ActorSystem<Void> join(String seed, Duration timeout,
      com.typesafe.config.Config extra) {
    if (!seed.matches("[^:\\s]+:\\d{1,5}")) {
      throw new IllegalArgumentException("--cluster = " + seed + ": expected HOST:PORT of a node");
    }
    ActorSystem<Void> client = ActorSystem.create(Behaviors.empty(), "anvil",
        AnvilConfig.load(ConfigFactory.parseMap(Map.of(
            "anvil.node.role", "client",
            "pekko.remote.artery.canonical.port", 0,
            "pekko.cluster.seed-nodes", List.of("pekko://anvil@" + seed)))
            .withFallback(extra)));
    JobCoordinator.init(client, "node");
    long deadline = System.nanoTime() + timeout.toNanos();
    Cluster cluster = Cluster.get(client);
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        client.terminate();
        throw new IllegalStateException("could not join the cluster at " + seed + " within "
            + timeout.toSeconds() + " s: is a node running there?");
      }
      try {
        TimeUnit.MILLISECONDS.sleep(50);  // polling membership
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        client.terminate();
        throw new IllegalStateException("interrupted while joining " + seed, e);
      }
    }
    return client;
  }
}
