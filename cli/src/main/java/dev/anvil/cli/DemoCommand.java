package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.chaos.ChaosCluster;
import dev.anvil.chaos.Reference;
import dev.anvil.chaos.check.Checker;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.Faults;
import dev.anvil.chaos.fault.KillNode;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.report.Report;
import dev.anvil.chaos.scenario.Scenario;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Recovered;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.TrainingLength;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.FollowedJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * trainer, then on a local cluster of separate JVMs with an embedded PostgreSQL journal. With 3
 * or 4 nodes it kills (SIGKILL) a worker's node and later the coordinator's node, one at a
 * time; with 5 or more, two nodes at once each time (a majority always remains). Before each
 * kill it waits until the cluster is whole by incarnation; each killed node is started again,
 * and "rejoined" is printed only when the coordinator has put its workers back into the job,
 * with the time from the restart. Then the chaos checker judges the journal's history, and both
 * runs must end with the same parameter hash and the same number of workers.
 */
@Command(name = "demo", description = "Train the MLP example on the reference trainer and on a"
    + " local cluster that loses a worker's node and then the coordinator's node (two nodes at"
    + " once with --nodes 5), each started again and rejoining the job, and show that both end"
    + " with the same parameters.")
final class DemoCommand implements Callable<Integer> {
  static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  @Option(names = "--out", defaultValue = "anvil-runs/demo",
      description = "Folder for results, the database and node logs (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--synthetic", description = "Use the synthetic data set even when"
      + " Fashion-MNIST is installed.")
  boolean synthetic;

  @Option(names = "--nodes", defaultValue = "3", description = "Node JVMs (default: 3; 5 or"
      + " more kill two nodes at once).")
  int nodes;

  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(20);
  /** The synthetic example's length in the demo: about half a minute on 3 nodes of 2 cores. */
  private static final int SYNTHETIC_EPOCHS = 30;
  private static final Duration RESTART_TIMEOUT = Duration.ofSeconds(90);
  /** How long a restarted node may take to be back in the job before the demo says it is not. */
  private static final Duration REJOIN_TIMEOUT = Duration.ofSeconds(90);

  @Override
  public Integer call() {
    if (nodes < 1) {
      throw new UserError("--nodes = " + nodes + ": must be a whole number >= 1");
    }
    boolean fmnist = !synthetic && Files.isDirectory(FASHION_MNIST);
    String example = fmnist ? "fmnist-mlp.conf" : "synthetic-mlp.conf";
    System.out.println(fmnist
        ? "Fashion-MNIST found in " + FASHION_MNIST + ": training examples/" + example
        : "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): training"
            + " examples/" + example + " on the built-in synthetic data set");
    JobSpec spec = JobSpecParser.parse(readExample(example), "examples/" + example, null);
    if (!fmnist && nodes >= 3) {
      // The example's 5 epochs take the cluster a few seconds: over before a killed node is
      // back. Longer, the same job shows both faults, each node's return, and the same bits.
      spec = spec.withLength(new TrainingLength.Epochs(SYNTHETIC_EPOCHS));
      System.out.println("(" + SYNTHETIC_EPOCHS + " epochs instead of the example's 5, so that"
          + " the faults and the nodes' return happen mid-job)");
    }
    int cores = Runtime.getRuntime().availableProcessors();

    System.out.printf("%n== 1. the reference: one process, %d threads ==%n", cores);
    TrainingResult reference = ReferenceRun.run(spec, example, cores,
        ProgressBar.forConsole(false));
    ReferenceRun.write(reference, out.resolve("result-reference.json"));
    System.out.println(ReferenceRun.summary(reference));

    boolean faults = nodes >= 3;
    int atOnce = nodes >= 5 ? 2 : 1;
    System.out.printf("%n== 2. a local cluster: %d node JVMs, %d workers, journal in an embedded"
        + " PostgreSQL%s ==%n", nodes, nodes, !faults ? " (faults need 3 nodes or more)"
        : String.format("; %s killed (SIGKILL) at 30%% of the rounds, %s at 60%%, each started"
            + " again", atOnce == 1 ? "a worker's node" : "two workers' nodes",
            atOnce == 1 ? "the coordinator's node" : "the coordinator's node and another"));
    ProgressBar bar = ProgressBar.forConsole(false);
    Path clusterData = out.resolve("cluster");
    ChaosCluster.clearDirectory(clusterData);
    long started = System.nanoTime();
    Verdict verdict;
    String resultJson;
    History history;
    Rejoins rejoins = new Rejoins();
    List<String> unrejoined = new ArrayList<>();
    try (ChaosCluster cluster = ChaosCluster.start(nodes, 1, clusterData)) {
      history = cluster.history();
      System.out.println("nodes up at " + String.join(", ", cluster.local().addresses())
          + "; logs in " + clusterData);
      System.out.println("members talk mutual TLS with a CA made for this run (certificate in "
          + cluster.local().tlsFolder() + ")");
      System.out.println("live dashboard on every node (some of them will be killed): "
          + String.join(", ", cluster.local().httpUrls().stream().map(u -> u + "/").toList()));
      String jobId = spec.name() + "-" + System.currentTimeMillis();
      FollowedJob job = cluster.submit(jobId, spec, nodes, u -> {
        if (!rejoins.heard(u)) {
          ClusterRun.show(u, bar);  // a rejoin is told by killAndRestart, once verified
        }
      });
      if (faults) {
        unrejoined.addAll(killAndRestart(cluster, job, "worker", atOnce,
            reference.rounds() * 3 / 10, bar, rejoins));
        unrejoined.addAll(killAndRestart(cluster, job, "coordinator", atOnce,
            reference.rounds() * 6 / 10, bar, rejoins));
        if (!job.done()) {
          cluster.awaitWhole(RESTART_TIMEOUT);
          cluster.note(Checker.WHOLE, job.round(), nodes + " nodes up by incarnation");
        }
      }
      verdict = cluster.verdict(job, new Reference(reference.paramsSha256(), reference.rounds(),
          0), JOB_TIMEOUT);
      if (verdict.failure() != null) {
        throw new ClusterRun.JobFailure("job " + jobId + " failed: " + verdict.failure()
            + "; node logs in " + clusterData);
      }
      resultJson = job.awaitResult(Duration.ofSeconds(30)).toString();
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
    for (JsonNode r : distributed.path("recoveries")) {
      if (r.path("kind").asText().equals("node-rejoined")) {
        System.out.printf("rejoin: %s; %.1f s from its restart to the first round that used"
            + " its workers%n", r.path("detail").asText(),
            r.path("recoveryMillis").asLong() / 1000.0);
      }
    }
    Path report = out.resolve("chaos-report");
    Report.write(report, new Scenario("demo", "anvil demo: the example on " + nodes + " nodes,"
        + " workers' nodes killed, then the coordinator's node, each started again.", nodes, 1,
        nodes, 0, JOB_TIMEOUT, Path.of("examples", example), List.of(), Path.of("demo")),
        verdict, history, (System.nanoTime() - started) / 1e9);
    System.out.printf("checker: %s (rounds %d of %d, lost %d, duplicated %d, out of order %d,"
        + " single-writer violations %d); report in %s%n", verdict.valid(),
        verdict.roundsCommitted(), verdict.roundsExpected(), verdict.lost(),
        verdict.duplicated(), verdict.outOfOrder(), verdict.singleWriterViolations(), report);

    String clusterHash = distributed.get("paramsSha256").asText();
    boolean same = reference.paramsSha256().equals(clusterHash);
    int workersAtEnd = distributed.path("workers").asInt();
    boolean whole = workersAtEnd == nodes && unrejoined.isEmpty();
    if (!whole) {
      System.out.printf("NOT WHOLE: the job ended with %d of its %d workers%s%n", workersAtEnd,
          nodes, unrejoined.isEmpty() ? "" : "; not back in the job: " + unrejoined);
    }
    boolean ok = same && whole && verdict.valid() == Verdict.Validity.TRUE;
    String faultStory = !faults ? "" : whole
        ? " (" + 2 * atOnce + " nodes killed and restarted, all back in the job)"
        : " (" + 2 * atOnce + " nodes killed and restarted, NOT all back in the job)";
    System.out.printf("%n%s: the reference and the %d-node cluster%s ended with %s parameters%n"
            + "  reference %s%n  cluster   %s%nresults in %s%n", ok ? "OK" : same
            ? "FAILED" : "MISMATCH", nodes, faultStory,
        same ? "bitwise identical" : "DIFFERENT", reference.paramsSha256(), clusterHash, out);
    if (!ok && same && verdict.valid() != Verdict.Validity.TRUE) {
      System.out.println("the checker did not say TRUE: " + verdict.problems());
    }
    return ok ? 0 : 1;
  }

  /**
   * Once {@code round} is committed: waits until the cluster is whole by incarnation, kills the
   * {@code target} node ("worker", "coordinator"; with {@code atOnce} 2, also a worker's node)
   * with SIGKILL, starts it again, and waits until its workers are back in the job. Returns the
   * nodes that did not come back into the job in time (none, normally).
   */
  private static List<String> killAndRestart(ChaosCluster cluster, FollowedJob job, String target,
      int atOnce, long round, ProgressBar bar, Rejoins rejoins) throws InterruptedException {
    if (!job.awaitRound(r -> r >= round, JOB_TIMEOUT) || job.done()) {
      return List.of();
    }
    long wait = System.nanoTime();
    cluster.awaitWhole(RESTART_TIMEOUT);
    long waited = (System.nanoTime() - wait) / 1_000_000;
    SplittableRandom random = new SplittableRandom(round);
    List<Integer> victims = Faults.atLeast(atOnce, Faults.targets(target, cluster, job, random),
        cluster, job, random);
    KillNode kill = new KillNode(cluster, victims, RESTART_TIMEOUT);
    bar.message("round " + job.round() + ": the cluster is whole (" + cluster.size()
        + " nodes up by incarnation" + (waited > 500 ? ", after " + waited + " ms" : "")
        + "); killing " + kill.target() + " (" + (target.equals("worker")
        ? (atOnce == 1 ? "a worker's node" : "workers' nodes")
        : (atOnce == 1 ? "the coordinator's node" : "the coordinator's node and a worker's"))
        + ") with SIGKILL");
    List<String> addresses = victims.stream().map(cluster::address).toList();
    addresses.forEach(rejoins::expect);
    cluster.inject(kill, job.round());
    long restartAt = System.currentTimeMillis();
    if (!cluster.heal(kill, job.round())) {
      throw new IllegalStateException("could not start " + kill.target() + " again; node logs"
          + " in " + cluster.local().dataDirectory());
    }
    bar.message(kill.target() + ": started again, new incarnation up after "
        + (System.currentTimeMillis() - restartAt) + " ms; waiting for its workers to rejoin the"
        + " job");
    List<String> missing = new ArrayList<>();
    for (String a : addresses) {
      Recovery r = rejoins.await(a, REJOIN_TIMEOUT, job);
      if (r != null) {
        bar.message(a + " rejoined the job: its workers compute again, "
            + r.recoveryMillis() + " ms after its restart");
      } else if (!job.done()) {
        missing.add(a);
        bar.message(a + " is up but its workers are not back in the job after "
            + REJOIN_TIMEOUT.toSeconds() + " s");
      }
    }
    return missing;
  }

  /** The node-rejoined recoveries heard from the job, by node address (host:port). */
  private static final class Rejoins {
    private final Map<String, CompletableFuture<Recovery>> byNode = new ConcurrentHashMap<>();

    void expect(String hostPort) {
      byNode.put(hostPort, new CompletableFuture<>());
    }

    /** Takes a rejoin from the job's updates; returns whether {@code u} was one. */
    boolean heard(JobUpdate u) {
      if (u instanceof Recovered r && r.recovery().kind().equals("node-rejoined")) {
        String node = r.recovery().detail().split(" ", 2)[0];
        byNode.computeIfAbsent(node, k -> new CompletableFuture<>()).complete(r.recovery());
        return true;
      }
      return false;
    }

    /** The rejoin of {@code hostPort}, or null when the job ended or {@code timeout} passed. */
    Recovery await(String hostPort, Duration timeout, FollowedJob job) throws InterruptedException {
      CompletableFuture<Recovery> f = byNode.computeIfAbsent(hostPort,
          k -> new CompletableFuture<>());
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && !job.done()) {
        try {
          return f.get(200, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          // look again whether the job ended
        } catch (ExecutionException e) {
          return null;
        }
      }
      return f.getNow(null);
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
