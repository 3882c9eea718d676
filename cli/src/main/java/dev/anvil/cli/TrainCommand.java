package dev.anvil.cli;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.KernelChoice;
import dev.anvil.core.spec.TrainingLength;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anvil train --local --job FILE --out result.json}. */
@Command(name = "train", description = "Train a job and write result.json.")
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--job", required = true, description = "Job file (HOCON).")
  Path job;

  @Option(names = "--local", description = "Run the single-process reference trainer.")
  boolean local;

  @Option(
      names = "--nodes",
      description = "Node JVMs of the local cluster to start" + " (default: 2).")
  Integer nodes;

  @Option(
      names = "--cluster",
      paramLabel = "HOST:PORT",
      description = "Run on a running cluster, joining it through this node.")
  String cluster;

  @picocli.CommandLine.Mixin ClientOptions client;

  @Option(
      names = "--insecure-transport",
      description =
          "With --nodes: plain TCP between the"
              + " local nodes instead of mutual TLS (faster on few cores; any local user could join).")
  boolean insecureTransport;

  @Option(
      names = "--out",
      defaultValue = "result.json",
      description = "Where to write the result (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--workers",
      description =
          "Total workers (default: the number of cores"
              + " with --local, one per node on a local cluster). The result does not depend on it.")
  Integer workers;

  @Option(names = "--kernel", description = "Override job.kernel: auto | native | java.")
  String kernel;

  @Option(names = "--rounds", description = "Override the job's length with this many rounds.")
  Long rounds;

  @Option(
      names = "--run-dir",
      description =
          "Folder for a local cluster's database and node"
              + " logs (default: anvil-runs/<job>-<time>).")
  java.nio.file.Path runDir;

  @Option(
      names = "--job-id",
      description =
          "Id of the job on the cluster, for `anvil pause`"
              + " and friends (default: the job's name and the time).")
  String jobId;

  @Option(
      names = {"-q", "--quiet"},
      description = "Print only the summary.")
  boolean quiet;

  @Override
  public Integer call() {
    if (local && (nodes != null || cluster != null)) {
      throw new UserError(
          "--local runs in this process: it takes neither --nodes nor" + " --cluster");
    }
    if (nodes != null && cluster != null) {
      throw new UserError(
          "--nodes starts a local cluster, --cluster joins a running one:" + " give one of them");
    }
    if (cluster == null && (client.host != null || client.tls != null)) {
      throw new UserError(
          "--host and --tls are how this process joins a running cluster:"
              + " they go with --cluster (a local cluster from --nodes makes its own credentials)");
    }
    if (nodes != null && nodes < 1) {
      throw new UserError("--nodes = " + nodes + ": must be a whole number >= 1");
    }
    KernelChoice kernelChoice = kernel == null ? null : parseKernel(kernel);
    JobSpec spec = JobSpecParser.parse(job);
    if (kernelChoice != null) {
      spec = spec.withKernel(kernelChoice);
    }
    if (rounds != null) {
      if (rounds <= 0) {
        throw new UserError("--rounds = " + rounds + ": must be a whole number > 0");
      }
      spec = spec.withLength(new TrainingLength.Rounds(rounds));
    }
    if (workers != null && workers <= 0) {
      throw new UserError("--workers = " + workers + ": must be a whole number > 0");
    }
    if (!local) {
      return distributed(spec);
    }
    int threads = workers == null ? Runtime.getRuntime().availableProcessors() : workers;
    TrainingResult result =
        ReferenceRun.run(spec, job.toString(), threads, ProgressBar.forConsole(quiet));
    ReferenceRun.write(result, out);
    System.out.println(ReferenceRun.summary(result));
    System.out.println("result written to " + out);
    return 0;
  }

  private int distributed(JobSpec spec) {
    ProgressBar bar = ProgressBar.forConsole(quiet);
    String resultJson;
    if (cluster != null) {
      int total = workers == null ? 1 : workers;
      var member = client.join(cluster);
      try {
        resultJson =
            ClusterRun.run(
                member,
                jobId != null ? jobId : spec.name() + "-" + System.currentTimeMillis(),
                spec,
                total,
                bar);
      } finally {
        member.terminate();
      }
    } else {
      int n = nodes == null ? 2 : nodes;
      int total = workers == null ? n : workers;
      int slots = (total + n - 1) / n;
      java.nio.file.Path data = runDir != null ? runDir : LocalCommand.runFolder(spec.name());
      bar.message(
          "starting a local cluster of "
              + n
              + " node JVMs ("
              + slots
              + " worker slots each; logs in "
              + data
              + ")");
      try (var local =
          LocalCluster.start(
              LocalClusterSettings.of(n, slots, data)
                  .allowingDataOf(spec)
                  .withTls(!insecureTransport))) {
        bar.message("live dashboard and HTTP API: " + local.httpUrls().get(0) + "/");
        resultJson = ClusterRun.run(local.client(), spec, total, bar);
      }
    }
    var result = ClusterRun.parse(resultJson);
    bar.history(result);
    ClusterRun.write(resultJson, out);
    System.out.println(ClusterRun.summary(result));
    System.out.println("result written to " + out);
    return 0;
  }

  static KernelChoice parseKernel(String value) {
    try {
      return KernelChoice.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UserError("--kernel = " + value + ": must be one of auto | native | java");
    }
  }
}
