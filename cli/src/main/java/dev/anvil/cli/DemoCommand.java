package dev.anvil.cli;

import dev.anvil.chaos.ChaosRun;
import dev.anvil.chaos.scenario.Scenario;
import dev.anvil.chaos.scenario.ScenarioException;
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
 * {@code anvil demo}: the story on one machine, told by a chaos scenario. Writes the scenario
 * shipped in {@code demo/scenario.conf} and the MLP example (Fashion-MNIST when Debian's data set
 * is installed, else the synthetic set) into the output folder, and runs it with {@link ChaosRun}:
 * the single-process reference trainer, then a local cluster of separate JVMs with an embedded
 * PostgreSQL journal that loses a worker's node and later the coordinator's node (two nodes at once
 * with 5 or more), each started again. {@link DemoConsole} tells the run as it goes and judges its
 * end; exit code 0 only when both runs ended with the same parameters, the checker said true and
 * the job ended with every worker.
 */
@Command(
    name = "demo",
    description =
        "Train the MLP example on the reference trainer and on a"
            + " local cluster that loses a worker's node and then the coordinator's node (two nodes at"
            + " once with --nodes 5), each started again and rejoining the job, and show that both end"
            + " with the same parameters.")
final class DemoCommand implements Callable<Integer> {
  static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  /** The synthetic example's length when nodes are killed: about half a minute on 3 nodes. */
  private static final int SYNTHETIC_EPOCHS = 30;

  @Option(
      names = "--out",
      defaultValue = "anvil-runs/demo",
      description = "Folder for results, the database and node logs (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--synthetic",
      description = "Use the synthetic data set even when" + " Fashion-MNIST is installed.")
  boolean synthetic;

  @Option(
      names = "--nodes",
      defaultValue = "3",
      description = "Node JVMs (default: 3; 5 or" + " more kill two nodes at once).")
  int nodes;

  @Override
  public Integer call() throws InterruptedException {
    boolean fmnist = !synthetic && Files.isDirectory(FASHION_MNIST);
    String example = fmnist ? "fmnist-mlp.conf" : "synthetic-mlp.conf";
    Path job = out.resolve("job.conf");
    String jobText = resource("/examples/" + example);
    ClusterRun.write(jobText, job);
    Path file = out.resolve("scenario.conf");
    ClusterRun.write(resource("/demo/scenario.conf"), file);
    Scenario scenario;
    try {
      scenario = Scenario.parse(file).withNodes(nodes);
    } catch (ScenarioException e) {
      throw new UserError(e.getMessage());
    }
    System.out.println(
        fmnist
            ? "Fashion-MNIST found in " + FASHION_MNIST + ": training examples/" + example
            : "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): training"
                + " examples/"
                + example
                + " on the built-in synthetic data set");
    if (!fmnist && !scenario.plannedFaults().isEmpty()) {
      // The example's 5 epochs take the cluster a few seconds: over before a killed node is
      // back. Longer, the same job shows both faults, each node's return, and the same bits.
      ClusterRun.write(
          jobText
              + "\n# anvil demo: longer, so that the faults happen mid-job\n"
              + "job.epochs = "
              + SYNTHETIC_EPOCHS
              + "\n",
          job);
      System.out.println(
          "("
              + SYNTHETIC_EPOCHS
              + " epochs instead of the example's 5, so that"
              + " the faults and the nodes' return happen mid-job)");
    }
    DemoConsole console = new DemoConsole(scenario, "examples/" + example, out);
    return console.conclude(new ChaosRun(scenario, out, null, console).run()) ? 0 : 1;
  }

  private static String resource(String name) {
    try (InputStream in = DemoCommand.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the build");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
