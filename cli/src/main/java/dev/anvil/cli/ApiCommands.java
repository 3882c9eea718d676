package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code anvil submit|status|pause|resume|cancel --cluster HOST:PORT}: the job commands, through a
 * node's HTTP API (each node's address is printed by {@code anvil local} and {@code anvil node}).
 */
final class ApiCommands {
  private ApiCommands() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where the API is and how to talk to it. */
  static final class ApiOptions {
    @Option(
        names = "--cluster",
        defaultValue = "127.0.0.1:8080",
        paramLabel = "HOST:PORT",
        description = "HTTP API of a node of the cluster (default: ${DEFAULT-VALUE}).")
    String api;

    @Option(
        names = "--token-file",
        paramLabel = "FILE",
        description =
            "File holding the"
                + " API's bearer token (default: ANVIL_HTTP_TOKEN, else ~/.anvil/http-token, which"
                + " nodes started by this user on this machine create). Not an option holding the"
                + " token itself: ps would show it.")
    java.nio.file.Path tokenFile;

    @Option(
        names = "--tls",
        paramLabel = "DIR",
        description =
            "For an API served over HTTPS"
                + " (anvil.http.https): a member folder of the cluster's CA, whose CA the client"
                + " trusts (anvil certs issue).")
    java.nio.file.Path tls;

    @Option(
        names = "--timeout",
        defaultValue = "60",
        description = "Seconds to wait for the answer (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    private static String readToken(java.nio.file.Path file) {
      try {
        return Files.readString(file).trim();
      } catch (IOException e) {
        throw new UserError("--token-file = " + file + ": cannot be read (" + e.getMessage() + ")");
      }
    }

    JsonNode call(String method, String path, String body) {
      if (!api.matches("[^:/\\s]+:\\d{1,5}")) {
        throw new UserError("--cluster = " + api + ": expected HOST:PORT of a node's HTTP API");
      }
      if (timeoutSeconds <= 0) {
        throw new UserError("--timeout = " + timeoutSeconds + ": must be a whole number > 0");
      }
      String bearer =
          tokenFile != null
              ? readToken(tokenFile)
              : dev.anvil.runtime.http.ApiToken.forClient(
                  dev.anvil.runtime.http.ApiToken.defaultFile());
      String scheme = tls != null ? "https://" : "http://";
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(scheme + api + path))
              .timeout(Duration.ofSeconds(timeoutSeconds))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body));
      if (bearer != null && !bearer.isBlank()) {
        request.header("Authorization", "Bearer " + bearer.trim());
      }
      if (body != null) {
        request.header("Content-Type", "application/hocon");
      }
      HttpResponse<String> response;
      try {
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (tls != null) {
          try {
            http.sslContext(dev.anvil.runtime.tls.TlsFiles.sslContext(tls));
          } catch (IllegalArgumentException e) {
            throw new UserError("--tls = " + tls + ": " + e.getMessage());
          }
        }
        response = http.build().send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (ConnectException e) {
        throw new IllegalStateException(
            "no Anvil HTTP API at "
                + scheme
                + api
                + ": is a node"
                + " running there? (anvil local and anvil node print each node's API address)");
      } catch (IOException e) {
        throw new IllegalStateException(scheme + api + path + ": " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      JsonNode answer;
      try {
        answer = JSON.readTree(response.body());
      } catch (IOException e) {
        throw new IllegalStateException(
            scheme
                + api
                + " answered "
                + response.statusCode()
                + " with something that is not Anvil's JSON");
      }
      if (response.statusCode() >= 500) {
        throw new IllegalStateException(
            answer.path("error").asText("HTTP " + response.statusCode()));
      }
      if (response.statusCode() >= 400) {
        throw new UserError(answer.path("error").asText("HTTP " + response.statusCode()));
      }
      return answer;
    }
  }

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Command(
      name = "submit",
      description =
          "Submit a job to a running cluster through a node's"
              + " HTTP API; prints its id (follow it with `anvil status`).")
  static final class Submit implements Callable<Integer> {
    @Option(names = "--job", required = true, description = "Job spec file (HOCON).")
    Path job;

    @Option(
        names = "--workers",
        description = "Workers (default: every worker the cluster" + " has).")
    Integer workers;

    @Option(names = "--job-id", description = "The job's id (default: its name and the time).")
    String jobId;

    @picocli.CommandLine.Mixin ApiOptions options;

    @Override
    public Integer call() throws IOException {
      if (!Files.isRegularFile(job)) {
        throw new UserError("--job = " + job + ": no such file");
      }
      StringBuilder query = new StringBuilder();
      if (workers != null) {
        query.append("workers=").append(workers);
      }
      if (jobId != null) {
        query.append(query.length() > 0 ? "&" : "").append("id=").append(encode(jobId));
      }
      JsonNode r =
          options.call(
              "POST", "/api/jobs" + (query.length() > 0 ? "?" + query : ""), Files.readString(job));
      System.out.println(
          "submitted job "
              + r.path("jobId").asText()
              + " on "
              + r.path("workers").asInt()
              + " workers; `anvil status "
              + r.path("jobId").asText()
              + " --cluster "
              + options.api
              + "` follows it");
      return 0;
    }
  }

  @Command(
      name = "status",
      description =
          "Show a job's state and recent progress, or every" + " job the cluster's journal holds.")
  static final class Status implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "JOB", description = "The job id (none: all).")
    String job;

    @picocli.CommandLine.Mixin ApiOptions options;

    @Override
    public Integer call() {
      if (job == null) {
        JsonNode r = options.call("GET", "/api/jobs", null);
        if (r.path("jobs").isEmpty()) {
          System.out.println("no jobs");
        }
        for (JsonNode j : r.path("jobs")) {
          System.out.printf(
              Locale.ROOT,
              "%-40s %-10s round %d%n",
              j.path("jobId").asText(),
              j.path("state").asText(),
              j.path("lastRound").asLong());
        }
        return 0;
      }
      JsonNode s = options.call("GET", "/api/jobs/" + encode(job), null);
      JsonNode recent = s.path("recentRounds");
      String loss =
          recent.isEmpty()
              ? "-"
              : String.format(
                  Locale.ROOT, "%.4f", recent.get(recent.size() - 1).path("loss").asDouble());
      System.out.printf(
          Locale.ROOT,
          "job %s: %s, round %d, loss %s%n",
          job,
          s.path("state").asText(),
          s.path("lastRound").asLong(),
          loss);
      if (s.has("reason")) {
        System.out.println("  " + s.path("reason").asText());
      }
      printPlacement(s.path("placement"));
      JsonNode result = s.path("result");
      if (!result.isMissingNode()) {
        System.out.printf(
            Locale.ROOT,
            "  %d rounds, train loss %.4f%s, paramsSha256 %s%n",
            result.path("rounds").asLong(),
            result.path("trainLoss").asDouble(),
            result.has("testAccuracy")
                ? String.format(
                    Locale.ROOT, ", test accuracy %.4f", result.path("testAccuracy").asDouble())
                : "",
            result.path("paramsSha256").asText());
        for (JsonNode r : result.path("recoveries")) {
          System.out.printf(
              Locale.ROOT,
              "  recovered from %s (%s): stalled %d ms%n",
              r.path("kind").asText(),
              r.path("detail").asText(),
              r.path("stallMillis").asLong());
        }
      }
      return 0;
    }

    /** The coordinator's node and the workers per node of a running job. */
    private static void printPlacement(JsonNode placement) {
      if (placement.isMissingNode()) {
        return;
      }
      if (placement.has("error")) {
        System.out.println("  placement unknown: " + placement.path("error").asText());
        return;
      }
      JsonNode c = placement.path("coordinator");
      System.out.printf(
          Locale.ROOT,
          "  coordinator: %s (uid %d)%n",
          c.path("node").asText(),
          c.path("uid").asLong());
      StringBuilder workers = new StringBuilder();
      for (JsonNode n : placement.path("workers")) {
        workers
            .append(workers.length() == 0 ? "" : ", ")
            .append(
                String.format(
                    Locale.ROOT,
                    "%s (uid %d) x%d",
                    n.path("node").asText(),
                    n.path("uid").asLong(),
                    n.path("workers").asInt()));
      }
      System.out.println("  workers: " + (workers.length() == 0 ? "none yet" : workers));
    }
  }

  /** A control command: POST /api/jobs/JOB/ACTION. */
  abstract static class Control implements Callable<Integer> {
    @Parameters(paramLabel = "JOB", description = "The job id.")
    String job;

    @picocli.CommandLine.Mixin ApiOptions options;

    abstract String action();

    String query() {
      return "";
    }

    abstract String done();

    @Override
    public Integer call() {
      JsonNode r =
          options.call("POST", "/api/jobs/" + encode(job) + "/" + action() + query(), null);
      String update = r.path("update").asText();
      if (update.equals("Failed") && !action().equals("cancel")) {
        System.out.println("job " + job + " has ended; nothing to " + action());
        return 1;
      }
      System.out.println("job " + job + " " + done());
      return 0;
    }
  }

  @Command(
      name = "pause",
      description =
          "Pause a job at its next round boundary, after a"
              + " checkpoint; it releases its workers until `anvil resume`.")
  static final class Pause extends Control {
    @Override
    String action() {
      return "pause";
    }

    @Override
    String done() {
      return "is paused (checkpointed; no workers held)";
    }
  }

  @Command(name = "resume", description = "Resume a paused job from its checkpoint.")
  static final class Resume extends Control {
    @Override
    String action() {
      return "resume";
    }

    @Override
    String done() {
      return "is training again";
    }
  }

  @Command(name = "cancel", description = "End a job for good (running or paused).")
  static final class Cancel extends Control {
    @Option(
        names = "--reason",
        defaultValue = "cancelled from the command line",
        description = "Recorded with the job.")
    String reason;

    @Override
    String action() {
      return "cancel";
    }

    @Override
    String query() {
      return "?reason=" + encode(reason);
    }

    @Override
    String done() {
      return "is cancelled";
    }
  }
}
