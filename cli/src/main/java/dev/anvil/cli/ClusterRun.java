package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.train.RoundProgress;
import dev.anvil.runtime.client.ClusterLostException;
import dev.anvil.runtime.client.JobClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import org.apache.pekko.actor.typed.ActorSystem;

/** Runs a job on a cluster through a client member, with progress, and keeps its result.json. */
final class ClusterRun {
  private ClusterRun() {}

  /** The result.json text, or a {@link JobFailure} with the coordinator's reason. */
  static String run(ActorSystem<?> client, JobSpec spec, int workers, ProgressBar bar) {
    return run(client, spec.name() + "-" + System.currentTimeMillis(), spec, workers, bar);
  }

  static String run(
      ActorSystem<?> client, String jobId, JobSpec spec, int workers, ProgressBar bar) {
    bar.message(
        "job id "
            + jobId
            + " (`anvil pause "
            + jobId
            + " --cluster HOST:PORT`, with"
            + " a node's HTTP API, pauses it)");
    JobClient.Outcome outcome;
    try {
      outcome =
          JobClient.submit(client, jobId, spec, workers, u -> show(u, bar))
              .toCompletableFuture()
              .get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while job " + jobId + " runs", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "job "
              + jobId
              + ": "
              + e.getCause().getMessage()
              + (e.getCause() instanceof ClusterLostException
                  ? " (its outcome is in the journal if any node comes back: `anvil status "
                      + jobId
                      + "`)"
                  : ""),
          e);
    }
    if (!outcome.succeeded()) {
      throw new JobFailure("job " + jobId + " failed: " + outcome.failure());
    }
    return outcome.resultJson();
  }

  static void show(JobUpdate u, ProgressBar bar) {
    if (u instanceof Accepted a) {
      bar.message(
          String.format(
              Locale.ROOT,
              "job %s: %s, %d rounds on %d workers (%d nodes)",
              a.jobId(),
              a.model(),
              a.totalRounds(),
              a.workers(),
              a.nodes()));
    } else if (u instanceof dev.anvil.coordinator.JobProtocol.Recovered r
        && r.recovery().kind().equals("node-rejoined")) {
      bar.message(
          String.format(
              Locale.ROOT,
              "job %s: node %s is back in the job, %d ms after" + " its restart",
              r.jobId(),
              r.recovery().detail().split(" ", 2)[0],
              r.recovery().recoveryMillis()));
    } else if (u instanceof dev.anvil.coordinator.JobProtocol.Recovered r
        && !r.recovery().kind().equals("deadline")) { // late work re-sent: routine, not shown
      bar.message(
          "job "
              + r.jobId()
              + " recovered from "
              + r.recovery().kind()
              + " ("
              + r.recovery().detail()
              + "): "
              + r.recovery().costs());
    } else if (u instanceof dev.anvil.coordinator.JobProtocol.Degraded d) {
      bar.message("job " + d.jobId() + " is degraded: " + d.reason());
    } else if (u instanceof dev.anvil.coordinator.JobProtocol.Paused p) {
      bar.message(
          "job "
              + p.jobId()
              + " is paused after round "
              + p.round()
              + "; `anvil resume "
              + p.jobId()
              + "` continues it");
    } else if (u instanceof Progress p) {
      bar.roundCommitted(
          new RoundProgress(
              p.round(), p.totalRounds(), Double.NaN, p.loss(), p.samplesPerSecond()));
    }
  }

  static JsonNode parse(String resultJson) {
    try {
      return new ObjectMapper().readTree(resultJson);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void write(String resultJson, Path out) {
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(out, resultJson, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
  }

  static String summary(JsonNode r) {
    String quality =
        r.has("testAccuracy")
            ? String.format(Locale.ROOT, "test accuracy %.4f", r.get("testAccuracy").asDouble())
            : String.format(Locale.ROOT, "test loss %.6f", r.get("testLoss").asDouble());
    return String.format(
        Locale.ROOT,
        "%s: %d rounds (%.2f epochs) on %d workers, %d nodes,"
            + " train loss %.4f, %s, %s samples/s, %.1f s%nparamsSha256 %s (kernel %s)",
        r.get("job").asText(),
        r.get("rounds").asLong(),
        r.get("epochs").asDouble(),
        r.get("workers").asInt(),
        r.get("nodes").asInt(),
        r.get("trainLoss").asDouble(),
        quality,
        ProgressBar.compact(r.get("samplesPerSecond").asDouble()),
        r.get("wallSeconds").asDouble(),
        r.get("paramsSha256").asText(),
        r.get("kernel").asText());
  }

  /** A job that the cluster ran and that failed, or that it refused. */
  static final class JobFailure extends RuntimeException {
    JobFailure(String message) {
      super(message);
    }
  }
}
