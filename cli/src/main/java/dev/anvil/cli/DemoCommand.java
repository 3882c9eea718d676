package dev.anvil.cli;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.LocalCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code anvil demo}: the determinism story on one machine. Trains the MLP example
 * (Fashion-MNIST when Debian's data set is installed, else the synthetic set) on the
 * single-process reference trainer, then on a 3-node local cluster of separate JVMs with an
 * embedded PostgreSQL journal, and shows that both end with the same parameter hash.
 */
@Command(name = "demo", description = "Train the MLP example on the reference trainer and on a"
    + " 3-node local cluster, and show that both end with the same parameters.")
final class DemoCommand implements Callable<Integer> {
  static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  @Option(names = "--out", defaultValue = "anvil-runs/demo",
      description = "Folder for results, the database and node logs (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--synthetic", description = "Use the synthetic data set even when"
      + " Fashion-MNIST is installed.")
  boolean synthetic;

  @Option(names = "--nodes", defaultValue = "3", description = "Node JVMs (default: 3).")
  int nodes;

  @Override
  public Integer call() {
    boolean fmnist = !synthetic && Files.isDirectory(FASHION_MNIST);
    String example = fmnist ? "fmnist-mlp.conf" : "synthetic-mlp.conf";
    System.out.println(fmnist
        ? "Fashion-MNIST found in " + FASHION_MNIST + ": training examples/" + example
        : "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): training"
            + " examples/" + example + " on the built-in synthetic data set");
    JobSpec spec = JobSpecParser.parse(readExample(example), "examples/" + example, null);
    int cores = Runtime.getRuntime().availableProcessors();

    System.out.printf("%n== 1. the reference: one process, %d threads ==%n", cores);
    TrainingResult reference = ReferenceRun.run(spec, example, cores,
        ProgressBar.forConsole(false));
    ReferenceRun.write(reference, out.resolve("result-reference.json"));
    System.out.println(ReferenceRun.summary(reference));

    System.out.printf("%n== 2. a local cluster: %d node JVMs, %d workers, journal in an embedded"
        + " PostgreSQL ==%n", nodes, nodes);
    ProgressBar bar = ProgressBar.forConsole(false);
    String resultJson;
    Path clusterData = out.resolve("cluster-" + System.currentTimeMillis());
    try (LocalCluster cluster = LocalCluster.start(LocalCluster.Settings.of(nodes, 1,
        clusterData))) {
      System.out.println("nodes up at " + String.join(", ", cluster.addresses()) + "; logs in "
          + clusterData);
      resultJson = ClusterRun.run(cluster.client(), spec, nodes, bar);
    }
    JsonNode distributed = ClusterRun.parse(resultJson);
    bar.history(distributed);
    ClusterRun.write(resultJson, out.resolve("result-cluster.json"));
    System.out.println(ClusterRun.summary(distributed));

    String clusterHash = distributed.get("paramsSha256").asText();
    boolean same = reference.paramsSha256().equals(clusterHash);
    System.out.printf("%n%s: the reference and the %d-node cluster ended with %s parameters%n"
            + "  reference %s%n  cluster   %s%nresults in %s%n", same ? "OK" : "MISMATCH", nodes,
        same ? "bitwise identical" : "DIFFERENT", reference.paramsSha256(), clusterHash, out);
    return same ? 0 : 1;
  }

  static String readExample(String name) {
    try (InputStream in = DemoCommand.class.getResourceAsStream("/examples/" + name)) {
      if (in == null) {
        throw new IllegalStateException("example " + name + " is missing from the build");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
