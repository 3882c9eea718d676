package dev.anvil.cli;

import dev.anvil.runtime.client.ClusterLoss;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anvil local --nodes N}: starts a local cluster and keeps it running until Ctrl-C. */
@Command(
    name = "local",
    description =
        "Start a local cluster of node JVMs (with an embedded"
            + " PostgreSQL journal) and keep it running until Ctrl-C.")
final class LocalCommand implements Callable<Integer> {
  @Option(names = "--nodes", defaultValue = "3", description = "Node JVMs (default: 3).")
  int nodes;

  @Option(
      names = "--slots",
      defaultValue = "1",
      description = "Worker slots per node (default: ${DEFAULT-VALUE}).")
  int slots;

  @Option(
      names = "--data",
      description =
          "Folder for the database and node logs" + " (default: anvil-runs/local-<time>).")
  Path data;

  @Option(
      names = "--data-root",
      paramLabel = "DIR",
      description =
          "A folder the nodes may read"
              + " data files from, besides anvil.data.allowed-roots (/usr/share/datasets); repeat for"
              + " several. Jobs submitted to the cluster can only name data in these folders.")
  java.util.List<Path> dataRoots = new java.util.ArrayList<>();

  @Option(
      names = "--insecure-transport",
      description =
          "Plain TCP between the nodes instead"
              + " of mutual TLS with a throw-away CA (faster on few cores; any local user could join).")
  boolean insecureTransport;

  /** A fresh folder under anvil-runs/ for one run's database and logs. */
  static Path runFolder(String name) {
    return Path.of(
        "anvil-runs",
        name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
  }

  @Override
  public Integer call() throws InterruptedException {
    if (nodes < 1 || slots < 1) {
      throw new UserError("--nodes and --slots must be whole numbers >= 1");
    }
    Path folder = data == null ? runFolder("local") : data;
    System.out.println("starting " + nodes + " node JVMs; database and logs in " + folder);
    LocalCluster cluster =
        LocalCluster.start(
            LocalClusterSettings.of(nodes, slots, folder)
                .allowingDataIn(DataRoots.existing(dataRoots))
                .withTls(!insecureTransport));
    CountDownLatch stopped = new CountDownLatch(1);
    CompletableFuture<String> ended = new CompletableFuture<>();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (ended.complete(null)) {
                    System.out.println("\nstopping the local cluster...");
                  }
                  cluster.close();
                  stopped.countDown();
                }));
    ClusterLoss.get(cluster.client()).lost().thenAccept(ended::complete);
    for (int i = 0; i < cluster.size(); i++) {
      System.out.println(
          "node "
              + (i + 1)
              + ": "
              + cluster.addresses().get(i)
              + ", HTTP API "
              + cluster.httpUrls().get(i)
              + "  (log "
              + cluster.logFile(i)
              + ")");
    }
    System.out.println("journal: " + cluster.database().url());
    System.out.println(
        "submit a job: ./anvil train --cluster "
            + String.join(",", cluster.addresses())
            + (cluster.tlsFolder() == null ? "" : " --tls " + cluster.tlsFolder())
            + " --workers "
            + (nodes * slots)
            + " --job examples/synthetic-mlp.conf");
    System.out.println("Ctrl-C stops the cluster.");
    String lost;
    try {
      lost = ended.get();
    } catch (ExecutionException e) {
      lost = e.getCause().toString();
    }
    if (lost == null) {
      stopped.await(); // the shutdown hook is closing the cluster
      return 0;
    }
    System.err.println("anvil: lost the local cluster: " + lost);
    cluster.close();
    return 1;
  }
}
