package dev.anvil.cli;

import dev.anvil.coordinator.JobProtocol;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.checkpoint.CheckpointFormat;
import dev.anvil.core.checkpoint.CorruptCheckpointException;
import dev.anvil.runtime.client.JobClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code anvil checkpoint export|import}: checkpoints between clusters, through a client member.
 */
final class JobCommands {
  private JobCommands() {}

  /** Options every command against a running cluster takes. */
  static final class ClusterOptions {
    @Option(
        names = "--cluster",
        required = true,
        paramLabel = "HOST:PORT",
        description =
            "Cluster address (host:port of its cluster port, not the HTTP API) of a"
                + " node to join through.")
    String cluster;

    @Option(
        names = "--timeout",
        defaultValue = "120",
        description = "Seconds to wait for the cluster's answer (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @picocli.CommandLine.Mixin ClientOptions client;

    <T> T run(Function<ActorSystem<Void>, CompletionStage<T>> call) {
      if (timeoutSeconds <= 0) {
        throw new UserError("--timeout = " + timeoutSeconds + ": must be a whole number > 0");
      }
      ActorSystem<Void> member = client.join(cluster);
      try {
        return call.apply(member).toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
      } catch (TimeoutException e) {
        throw new IllegalStateException(
            "no answer from the cluster at " + cluster + " within " + timeoutSeconds + " s");
      } finally {
        member.terminate();
      }
    }
  }

  /** Prints what a command got back; 0 when it is what was asked for. */
  static int report(JobUpdate u, Class<? extends JobUpdate> wanted) {
    if (u instanceof JobProtocol.Accepted a) {
      System.out.println(
          "job "
              + a.jobId()
              + " is training: "
              + a.model()
              + ", "
              + a.totalRounds()
              + " rounds on "
              + a.workers()
              + " workers");
    } else if (u instanceof JobProtocol.Finished f) {
      System.out.println("job " + f.jobId() + " has finished");
    } else if (u instanceof JobProtocol.Failed f) {
      System.out.println("job " + f.jobId() + " ended: " + f.reason());
    } else if (u instanceof JobProtocol.Rejected r) {
      throw new UserError(r.reason());
    }
    return wanted.isInstance(u) ? 0 : 1;
  }

  @Command(
      name = "checkpoint",
      description = "Move jobs between clusters.",
      subcommands = {Export.class, Import.class})
  static final class Checkpoints implements Runnable {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(System.out);
    }
  }

  @Command(
      name = "export",
      description =
          "Write a job's newest verified checkpoint to a"
              + " self-contained, checksummed file (pause the job first to export where it stands).")
  static final class Export implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOB", description = "The job id.")
    String job;

    @Parameters(index = "1", paramLabel = "FILE", description = "The file to write.")
    Path file;

    @picocli.CommandLine.Mixin ClusterOptions options;

    @Override
    public Integer call() {
      JobProtocol.Exported e =
          options.run(c -> JobClient.export(c, job, Duration.ofSeconds(options.timeoutSeconds)));
      if (e.error() != null) {
        throw new UserError(e.error());
      }
      try {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        Files.write(partial, e.checkpoint());
        Files.move(
            partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException x) {
        throw new UncheckedIOException("cannot write " + file + ": " + x.getMessage(), x);
      }
      System.out.println(
          "job "
              + job
              + ": checkpoint of round "
              + e.round()
              + " written to "
              + file
              + " ("
              + e.checkpoint().length
              + " bytes, SHA-256 "
              + CheckpointFormat.checksum(e.checkpoint())
              + ")");
      return 0;
    }
  }

  @Command(
      name = "import",
      description =
          "Continue a job from an exported checkpoint file on"
              + " this cluster; refused when its data or kernel differs from the file's.")
  static final class Import implements Callable<Integer> {
    @Parameters(
        paramLabel = "FILE",
        description = "A file written by `anvil checkpoint" + " export`.")
    Path file;

    @Option(names = "--job-id", description = "Id of the job here (default: the file's).")
    String jobId;

    @Option(
        names = "--workers",
        defaultValue = "0",
        description =
            "Workers to train on"
                + " (default: as many as the job had). The result does not depend on it.")
    int workers;

    @Option(
        names = "--detach",
        description = "Return once the job trains, without following" + " it to the end.")
    boolean detach;

    @Option(
        names = "--out",
        defaultValue = "result.json",
        description = "Where to write the result when following (default: ${DEFAULT-VALUE}).")
    Path out;

    @picocli.CommandLine.Mixin ClusterOptions options;

    @Override
    public Integer call() {
      if (workers < 0) {
        throw new UserError("--workers = " + workers + ": must be a whole number >= 0");
      }
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new UserError("cannot read " + file + ": " + e.getMessage());
      }
      Checkpoint c;
      try {
        c = CheckpointFormat.decode(bytes);
      } catch (CorruptCheckpointException e) {
        throw new UserError(file + " is not a usable checkpoint: " + e.getMessage());
      }
      String id = jobId != null ? jobId : c.jobId();
      System.out.println(
          file
              + ": job "
              + c.jobId()
              + " at round "
              + c.round()
              + ", format version "
              + CheckpointFormat.VERSION
              + "; importing as job "
              + id);
      if (detach) {
        return report(
            options.run(client -> JobClient.importCheckpoint(client, id, bytes, workers)),
            JobProtocol.Accepted.class);
      }
      ProgressBar bar = ProgressBar.forConsole(false);
      String resultJson =
          options.run(
              client ->
                  JobClient.importCheckpoint(client, id, bytes, workers)
                      .thenCompose(
                          u -> {
                            report(u, JobProtocol.Accepted.class);
                            return JobClient.watch(
                                client, id, update -> ClusterRun.show(update, bar));
                          })
                      .thenApply(
                          o -> {
                            if (!o.succeeded()) {
                              throw new ClusterRun.JobFailure(
                                  "job " + id + " failed: " + o.failure());
                            }
                            return o.resultJson();
                          }));
      var result = ClusterRun.parse(resultJson);
      ClusterRun.write(resultJson, out);
      System.out.println(ClusterRun.summary(result));
      System.out.println("result written to " + out);
      return 0;
    }
  }
}
