package dev.anvil.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.chaos.check.Checker;
import dev.anvil.chaos.history.History;
import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.coordinator.JobProtocol.Recovered;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.ClusterLostException;
import dev.anvil.runtime.JobClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import dev.anvil.chaos.check.Verdict;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongPredicate;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * One job followed through a chaos run: the newest round the client heard committed, the node
 * of its coordinator, the nodes it reported back in the job, its outcome. Progress goes into
 * the run's {@link History} for the charts.
 */
public final class ChaosJob {
  private final String jobId;
  private final JobSpec spec;
  private final int workers;
  private final History history;
  private String coordinator;
  private long round;
  private final java.util.function.Consumer<JobUpdate> listener;
  /** When the client last heard each node (host:port) back in the job (node-rejoined). */
  private final Map<String, Long> rejoinedAtMillis = new HashMap<>();
  private CompletableFuture<JobClient.Outcome> outcome;

  ChaosJob(ActorSystem<?> client, String jobId, JobSpec spec, int workers, History history,
      java.util.function.Consumer<JobUpdate> listener) {
    this.jobId = jobId;
    this.spec = spec;
    this.workers = workers;
    this.history = history;
    this.listener = listener;
    this.outcome = JobClient.submit(client, jobId, spec, workers, this::onUpdate)
        .toCompletableFuture();
  }

  /** Follows the job again through a new client (after the whole cluster was restarted). */
  synchronized void rewatch(ActorSystem<?> client) {
    outcome = JobClient.watch(client, jobId, this::onUpdate).toCompletableFuture();
  }

  private synchronized void onUpdate(JobUpdate u) {
    listener.accept(u);
    if (u instanceof Accepted a) {
      coordinator = a.coordinator();
    } else if (u instanceof Progress p && p.round() > round) {
      round = p.round();
      history.sample(p.round(), p.loss());
    } else if (u instanceof Recovered r && r.recovery().kind().equals("node-rejoined")) {
      rejoinedAtMillis.put(r.recovery().detail().split(" ", 2)[0], System.currentTimeMillis());
    }
    notifyAll();
  }

  public String id() {
    return jobId;
  }

  public JobSpec spec() {
    return spec;
  }

  /** The newest round the client heard committed. */
  public synchronized long round() {
    return round;
  }

  /** host:port of the node hosting the coordinator, as last announced (null before). */
  public synchronized String coordinator() {
    return coordinator;
  }

  public synchronized boolean done() {
    return outcome.isDone();
  }

  /**
   * Waits until {@code condition} holds for the newest committed round, or the job ends, or
   * {@code timeout} passes; returns whether the condition holds.
   */
  public synchronized boolean awaitRound(LongPredicate condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test(round) && !outcome.isDone()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(500)));
    }
    return condition.test(round);
  }

  /**
   * Waits until the job reports node {@code hostPort} back in the job (its workers admitted
   * again) later than {@code sinceMillis}, or the job ends, or {@code timeout} passes; returns
   * whether it was reported.
   */
  public synchronized boolean awaitRejoin(String hostPort, long sinceMillis, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (rejoinedAtMillis.getOrDefault(hostPort, 0L) <= sinceMillis && !outcome.isDone()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(500)));
    }
    return rejoinedAtMillis.getOrDefault(hostPort, 0L) > sinceMillis;
  }

  /** Waits until round {@code r} is committed, or fails naming what was seen. */
  public void awaitRound(long r, Duration timeout) throws InterruptedException {
    if (!awaitRound(n -> n >= r, timeout)) {
      throw new IllegalStateException("job " + jobId + ": round " + r + " not committed within "
          + timeout + " (last heard " + round() + (done() ? ", the job ended: " + ending() : "")
          + ")");
    }
  }

  /** How the job's follow ended, in words (it must have ended). */
  private synchronized String ending() {
    try {
      JobClient.Outcome o = outcome.join();
      return o.succeeded() ? "finished" : o.failure();
    } catch (java.util.concurrent.CompletionException e) {
      return e.getCause().getMessage();
    }
  }

  /** The job's end as the checker takes it, waiting up to {@code timeout}. */
  public Checker.Outcome awaitOutcome(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      CompletableFuture<JobClient.Outcome> current;
      synchronized (this) {
        current = outcome;
      }
      long left = deadline - System.nanoTime();
      try {
        JobClient.Outcome o = current.get(Math.max(1, Math.min(left,
            TimeUnit.SECONDS.toNanos(1))), TimeUnit.NANOSECONDS);
        if (!o.succeeded()) {
          return Checker.Outcome.failed(o.failure());
        }
        JsonNode result = result(o);
        return Checker.Outcome.finished(result.get("paramsSha256").asText(),
            result.path("rejectedResults").asLong(), workers,
            result.path("workers").asInt(-1), rejoins(result));
      } catch (TimeoutException e) {
        if (left <= 0) {
          return Checker.Outcome.unfinished("no outcome within " + timeout.toSeconds()
              + " s; last round heard " + round());
        }
      } catch (java.util.concurrent.ExecutionException e) {
        return Checker.Outcome.unfinished(e.getCause() instanceof ClusterLostException
            ? e.getCause().getMessage() + " (last round heard " + round() + ")"
            : "following the job failed: " + e.getCause());
      }
    }
  }

  /** The nodes that came back into the job, from its result's recoveries. */
  static List<Verdict.Rejoin> rejoins(JsonNode result) {
    List<Verdict.Rejoin> out = new ArrayList<>();
    for (JsonNode r : result.path("recoveries")) {
      if (r.path("kind").asText().equals("node-rejoined")) {
        out.add(new Verdict.Rejoin(r.path("detail").asText().split(" ", 2)[0],
            r.path("faultSeenMillis").asLong(), r.path("recoveryMillis").asLong()));
      }
    }
    return out;
  }

  /** The result.json of a finished job, as its coordinator wrote it. */
  public String resultJson(Duration timeout) throws InterruptedException {
    try {
      JobClient.Outcome o = outcome.get(timeout.toSeconds(), TimeUnit.SECONDS);
      if (!o.succeeded()) {
        throw new IllegalStateException("job " + jobId + " failed: " + o.failure());
      }
      return o.resultJson();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("job " + jobId + " has no result: "
          + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("job " + jobId + " has no result within " + timeout, e);
    }
  }

  private static JsonNode result(JobClient.Outcome o) {
    try {
      return new ObjectMapper().readTree(o.resultJson());
    } catch (IOException e) {
      throw new UncheckedIOException("unreadable result.json of job " + o.jobId(), e);
    }
  }
}
