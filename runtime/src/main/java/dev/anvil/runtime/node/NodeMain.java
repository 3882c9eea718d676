package dev.anvil.runtime.node;

import com.typesafe.config.ConfigFactory;
import dev.anvil.runtime.launcher.LocalCluster;
import java.io.IOException;
import java.time.Duration;

/**
 * Entry point of a node JVM started by {@link LocalCluster}: configuration comes from system
 * properties. With {@code -Danvil.node.watch-stdin=true} the node exits when its standard input
 * closes, which happens when the launcher dies, even by SIGKILL (no orphans).
 */
public final class NodeMain {
  private NodeMain() {}

  public static void main(String[] args) {
    AnvilNode node;
    try {
      node = AnvilNode.start(ConfigFactory.empty());
    } catch (RuntimeException e) {
      System.err.println("anvil node: cannot start: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.out.println(
        "anvil node up at "
            + node.address()
            + " (incarnation uid "
            + org.apache.pekko.cluster.typed.Cluster.get(node.system())
                .selfMember()
                .uniqueAddress()
                .longUid()
            + ", seeds "
            + node.system().settings().config().getStringList("pekko.cluster.seed-nodes")
            + ")"
            + node.httpUrl().map(url -> "; HTTP API on " + url).orElse(""));
    if (Boolean.getBoolean("anvil.node.watch-stdin")) {
      Thread watcher =
          new Thread(
              () -> {
                try {
                  while (System.in.read() != -1) {
                    // the launcher writes nothing; only the end of the stream matters
                  }
                } catch (IOException e) {
                  // a broken pipe means the launcher is gone as well
                }
                System.out.println("anvil node: launcher gone, leaving the cluster");
                node.close(Duration.ofSeconds(10));
                System.exit(0);
              },
              "anvil-parent-watch");
      watcher.setDaemon(true);
      watcher.start();
    }
    node.system().getWhenTerminated().toCompletableFuture().join();
    System.exit(0);
  }
}
