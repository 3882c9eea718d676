package dev.anvil.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import dev.anvil.coordinator.JobProtocol;
import dev.anvil.core.data.DataException;
import dev.anvil.core.data.DataLoader;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.runtime.client.JobClient;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * /api/jobs: the jobs the journal holds, a job's status, submitting a job and pausing, resuming or
 * cancelling one. A job submitted here counts as existing from its submission on, before its first
 * event reaches the journal: its status is then "starting", and it cannot be submitted twice.
 */
final class JobsResource {
  private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(30);

  /** Recent rounds in a job's status. */
  private static final int STATUS_ROUNDS = 50;

  private final ActorSystem<?> system;
  private final JobRecords records;
  private final SpecRules specRules;
  private final IntSupplier workers;
  private final long maxBodyBytes;
  private final ObjectMapper json;

  /** Jobs submitted through this API whose first event may not be in the journal yet. */
  private final Set<String> submitted = ConcurrentHashMap.newKeySet();

  /** {@code workers} counts the cluster's workers: a submission's default. */
  JobsResource(
      ActorSystem<?> system,
      JobRecords records,
      IntSupplier workers,
      long maxBodyBytes,
      ObjectMapper json) {
    this.system = system;
    this.records = records;
    this.specRules = SpecRules.from(system.settings().config());
    this.workers = workers;
    this.maxBodyBytes = maxBodyBytes;
    this.json = json;
  }

  /** GET /api/jobs: each job's id, state and last round. */
  Answer list() throws SQLException {
    List<Object> out = new ArrayList<>();
    for (JobRecords.Status s : records.overview()) {
      out.add(Map.of("jobId", s.jobId(), "state", s.state(), "lastRound", s.lastRound()));
    }
    return Answer.ok(Map.of("jobs", out));
  }

  /** GET /api/jobs/{id}: its state, recent rounds, placement while it runs, result once done. */
  Answer status(String id) throws SQLException, IOException {
    JobRecords.Status s = records.status(id, STATUS_ROUNDS);
    if (s == null && submitted.contains(id)) {
      s = new JobRecords.Status(id, "starting", 0, List.of(), null, null, List.of());
    }
    if (s == null) {
      throw new HttpError(404, "no job " + id);
    }
    Map<String, Object> m = JobRecords.describe(s);
    if (Placements.running(s.state())) {
      JobProtocol.Placement p = Placements.ask(system, List.of(id)).get(id);
      m.put("placement", p == null ? Placements.unknown() : Placements.describe(p));
    }
    if (s.resultJson() != null) {
      m.put("result", json.readTree(s.resultJson()));
    }
    return Answer.ok(m);
  }

  /** POST /api/jobs?id=ID&amp;workers=N: starts the job spec in the body (202). */
  Answer submit(HttpExchange x) throws IOException, SQLException {
    Map<String, String> query = ApiRequest.query(x.getRequestURI().getRawQuery());
    String body =
        ApiRequest.body(
            x.getRequestBody(), x.getRequestHeaders().getFirst("Content-Length"), maxBodyBytes);
    JobSpec spec = ApiRequest.spec(body, specRules);
    try {
      DataLoader.probe(spec.data());
    } catch (DataException e) {
      throw new HttpError(400, e.getMessage().strip());
    }
    int count =
        query.containsKey("workers")
            ? ApiRequest.workers(query.get("workers"))
            : workers.getAsInt();
    String id =
        query.containsKey("id")
            ? ApiRequest.jobId(query.get("id"))
            : spec.name().replaceAll("[^A-Za-z0-9._-]", "-") + "-" + System.currentTimeMillis();
    if (records.exists(id) || !submitted.add(id)) {
      throw new HttpError(409, "job " + id + " exists; GET /api/jobs/" + id + " shows it");
    }
    JobClient.submit(system, id, spec, count, u -> {})
        .whenComplete((outcome, error) -> submitted.remove(id));
    return new Answer(202, Map.of("jobId", id, "workers", count, "status", "/api/jobs/" + id));
  }

  /** POST /api/jobs/{id}/pause|resume|cancel[?reason=...]: waits for the job's answer. */
  Answer control(String id, String action, HttpExchange x)
      throws SQLException, InterruptedException {
    if (!submitted.contains(id) && !records.exists(id)) {
      throw new HttpError(404, "no job " + id);
    }
    CompletionStage<JobProtocol.JobUpdate> update =
        switch (action) {
          case "pause" -> JobClient.pause(system, id);
          case "resume" -> JobClient.resume(system, id);
          case "cancel" ->
              JobClient.cancel(
                  system,
                  id,
                  ApiRequest.query(x.getRequestURI().getRawQuery())
                      .getOrDefault("reason", "cancelled through the HTTP API"));
          default ->
              throw new HttpError(
                  404,
                  "no such action on a job; POST /api/jobs/{id}/ takes"
                      + " pause, resume or cancel");
        };
    try {
      JobProtocol.JobUpdate u =
          update.toCompletableFuture().get(CONTROL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (u instanceof JobProtocol.Rejected r) {
        throw new HttpError(409, r.reason());
      }
      return Answer.ok(Map.of("jobId", id, "done", action, "update", u.getClass().getSimpleName()));
    } catch (ExecutionException e) {
      throw new HttpError(409, "job " + id + ": " + e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new HttpError(
          504,
          "job "
              + id
              + " did not answer "
              + action
              + " within "
              + CONTROL_TIMEOUT.toSeconds()
              + " s");
    }
  }
}
