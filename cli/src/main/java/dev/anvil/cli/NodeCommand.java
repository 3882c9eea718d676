package dev.anvil.cli;

import com.typesafe.config.ConfigFactory;
import dev.anvil.runtime.AnvilNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code anvil node}: one node of a cluster that spans machines. Needs an external PostgreSQL
 * that every node reaches ({@code --db}); an embedded database lives in one launcher's process
 * and cannot serve several hosts.
 */
@Command(name = "node", description = "Run one cluster node in this process (several machines:"
    + " every node joins the same seed and uses the same external PostgreSQL).")
final class NodeCommand implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "127.0.0.1",
      description = "Address other nodes reach this one at (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", required = true, description = "Cluster port of this node.")
  int port;

  @Option(names = "--seed", required = true, paramLabel = "HOST:PORT",
      description = "A node to join through (this node's own address for the first one).")
  List<String> seeds;

  @Option(names = "--db", description = "JDBC URL of the journal's PostgreSQL,"
      + " jdbc:postgresql://HOST:PORT/DATABASE (required).")
  String db;

  @Option(names = "--db-user", defaultValue = "postgres", description = "Database user.")
  String dbUser;

  @Option(names = "--slots", defaultValue = "2", description = "Worker slots on this node.")
  int slots;

  @Override
  public Integer call() {
    if (db == null) {
      throw new UserError("anvil node needs --db jdbc:postgresql://HOST:PORT/DATABASE: nodes on"
          + " several hosts share one external PostgreSQL (the password comes from"
          + " ANVIL_DB_PASSWORD); for a cluster on one machine use `anvil local`");
    }
    if (port < 1 || port > 65535) {
      throw new UserError("--port = " + port + ": must be from 1 to 65535");
    }
    Map<String, Object> settings = new HashMap<>();
    settings.put("pekko.remote.artery.canonical.hostname", host);
    settings.put("pekko.remote.artery.canonical.port", port);
    settings.put("pekko.cluster.seed-nodes", seeds.stream().map(s -> {
      if (!s.matches("[^:\\s]+:\\d{1,5}")) {
        throw new UserError("--seed = " + s + ": expected HOST:PORT");
      }
      return "pekko://anvil@" + s;
    }).toList());
    settings.put("anvil.persistence.url", db);
    settings.put("anvil.persistence.user", dbUser);
    settings.put("anvil.worker.slots", slots);
    AnvilNode node = AnvilNode.start(ConfigFactory.parseMap(settings));
    System.out.println("anvil node up at " + node.address() + " with " + slots
        + " worker slots; journal at " + db);
    Runtime.getRuntime().addShutdownHook(new Thread(node::close));
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
