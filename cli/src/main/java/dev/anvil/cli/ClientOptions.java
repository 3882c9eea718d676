package dev.anvil.cli;

import com.typesafe.config.ConfigFactory;
import dev.anvil.runtime.client.ClientAddress;
import dev.anvil.runtime.client.ClusterClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import picocli.CommandLine.Option;

/**
 * How a command joins a running cluster as a client member ({@code train --cluster}, {@code
 * checkpoint}): the address it advertises, which the nodes connect back to, and its member
 * credentials.
 */
final class ClientOptions {
  @Option(
      names = "--host",
      paramLabel = "HOST[:PORT]",
      description =
          "The address the nodes"
              + " use to reach this client: they connect back to it, so a firewall must let them in"
              + " (default: this machine's address that routes to the first --cluster node, on a free"
              + " port; 127.0.0.1 for a node on loopback).")
  String host;

  @Option(
      names = "--tls",
      paramLabel = "DIR",
      description =
          "Member credentials for a"
              + " cluster with mutual TLS (anvil certs issue; a local cluster's RUN/tls).")
  Path tls;

  /** Joins through {@code cluster} (HOST:PORT[,...]); up within 30 s or a clear error. */
  ActorSystem<Void> join(String cluster) {
    List<String> seeds = ClusterClient.parseSeeds(cluster);
    ClientAddress self = host == null ? ClientAddress.routingTo(seeds) : ClientAddress.parse(host);
    return ClusterClient.join(
        seeds,
        self,
        Duration.ofSeconds(30),
        tls == null ? ConfigFactory.empty() : ClusterClient.tls(tls));
  }
}
