package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.chaos.ChaosCluster;
import dev.anvil.chaos.ChaosJob;
import dev.anvil.chaos.Reference;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.Faults;
import dev.anvil.chaos.fault.KillNode;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.report.Report;
import dev.anvil.chaos.scenario.Scenario;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.TrainingResult;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
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
 * {@code anvil demo}: the story on one machine. Trains the MLP example (Fashion-MNIST when
 * Debian's data set is installed, else the synthetic set) on the single-process reference
 * trainer, then on a 3-node local cluster of separate JVMs with an embedded PostgreSQL journal,
 * kills a worker node (SIGKILL) and later the coordinator's node, prints each recovery time,
 * has the chaos checker judge the journal's history, and shows that both runs end with the
 * same parameter hash.
 */
@Command(name = "demo", description = "Train the MLP example on the reference trainer and on a"
    + " 3-node local cluster that loses a worker node and then the coordinator's node, and show"
    + " that both end with the same parameters.")
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

    boolean faults = nodes >= 3;
    System.out.printf("%n== 2. a local cluster: %d node JVMs, %d workers, journal in an embedded"
        + " PostgreSQL%s ==%n", nodes, nodes, faults ? "; a worker node killed (SIGKILL) at 30%"
        + " of the rounds, the coordinator's node at 60%" : " (faults need 3 nodes or more)");
    ProgressBar bar = ProgressBar.forConsole(false);
    Path clusterData = out.resolve("cluster");
    ChaosCluster.clearDirectory(clusterData);
    long started = System.nanoTime();
    Verdict verdict;
    String resultJson;
    History history;
    try (ChaosCluster cluster = ChaosCluster.start(nodes, 1, clusterData)) {
      history = cluster.history();
      System.out.println("nodes up at " + String.join(", ", cluster.local().addresses())
          + "; logs in " + clusterData);
      System.out.println("live dashboard on every node (one of them will be killed): "
          + String.join(", ", cluster.local().httpUrls().stream().map(u -> u + "/").toList()));
      String jobId = spec.name() + "-" + System.currentTimeMillis();
      ChaosJob job = cluster.submit(jobId, spec, nodes, u -> ClusterRun.show(u, bar));
      if (faults) {
        kill(cluster, job, "worker", reference.rounds() * 3 / 10, bar);
        kill(cluster, job, "coordinator", reference.rounds() * 6 / 10, bar);
      }
      verdict = cluster.verdict(job, new Reference(reference.paramsSha256(), reference.rounds(),
          0), JOB_TIMEOUT);
      if (verdict.failure() != null) {
        throw new ClusterRun.JobFailure("job " + jobId + " failed: " + verdict.failure());
      }
      resultJson = job.result(Duration.ofSeconds(30)).toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    JsonNode distributed = ClusterRun.parse(resultJson);
    bar.history(distributed);
    ClusterRun.write(resultJson, out.resolve("result-cluster.json"));
    System.out.println(ClusterRun.summary(distributed));
    for (Verdict.RecoveryTime r : verdict.recoveries()) {
      System.out.printf("%s of %s: the next round was committed %.1f s later (longest stall"
          + " %.1f s)%n", r.fault(), r.target(), r.millis() / 1000.0,
          Math.max(0, r.stallMillis()) / 1000.0);
    }
    Path report = out.resolve("chaos-report");
    Report.write(report, new Scenario("demo", "anvil demo: the example on " + nodes + " nodes,"
        + " a worker node killed, then the coordinator's node.", nodes, 1, nodes, 0,
        JOB_TIMEOUT, Path.of("examples", example), List.of(), Path.of("demo")), verdict,
        history, (System.nanoTime() - started) / 1e9);
    System.out.printf("checker: %s (rounds %d of %d, lost %d, duplicated %d, out of order %d,"
        + " single-writer violations %d); report in %s%n", verdict.valid(),
        verdict.roundsCommitted(), verdict.roundsExpected(), verdict.lost(),
        verdict.duplicated(), verdict.outOfOrder(), verdict.singleWriterViolations(), report);

    String clusterHash = distributed.get("paramsSha256").asText();
    boolean same = reference.paramsSha256().equals(clusterHash);
    boolean ok = same && verdict.valid() == Verdict.Validity.TRUE;
    System.out.printf("%n%s: the reference and the %d-node cluster%s ended with %s parameters%n"
            + "  reference %s%n  cluster   %s%nresults in %s%n", ok ? "OK" : "MISMATCH", nodes,
        faults ? " (two nodes killed)" : "", same ? "bitwise identical" : "DIFFERENT",
        reference.paramsSha256(), clusterHash, out);
    return ok ? 0 : 1;
  }

  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(20);

  /** SIGKILL of the {@code target} ("worker", "coordinator") node once {@code round} is done. */
  private static void kill(ChaosCluster cluster, ChaosJob job, String target, long round,
      ProgressBar bar) throws InterruptedException {
    if (!job.awaitRound(r -> r >= round, JOB_TIMEOUT) || job.done()) {
      return;
    }
    KillNode kill = new KillNode(cluster, Faults.targets(target, cluster, job,
        new SplittableRandom(round)), Duration.ofSeconds(90));
    bar.message("round " + job.round() + ": killing " + kill.target() + " ("
        + (target.equals("worker") ? "a worker's node" : "the coordinator's node")
        + ") with SIGKILL");
    cluster.inject(kill, job.round());
    if (target.equals("worker")) {
      cluster.heal(kill, job.round());
      bar.message(kill.target() + " started again and rejoined");
    }
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
