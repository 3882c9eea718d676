package dev.anvil.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.core.spec.JobSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Follows one job on a {@link LocalCluster} for the fault tests: the newest coordinator address
 * and committed round, waits with deadlines, and the checks every scenario ends with (the
 * fault-free hash, rounds 1..N in the journal exactly once, no single-writer violation).
 */
final class JobWatch {
  private final LocalCluster cluster;
  private final String jobId;
  private final List<String> coordinators = new ArrayList<>();
  private long lastRound;
  private final java.util.concurrent.CompletableFuture<JobClient.Outcome> outcome;

  JobWatch(LocalCluster cluster, String jobId, JobSpec spec, int workers) {
    this.cluster = cluster;
    this.jobId = jobId;
    this.outcome = JobClient.submit(cluster.client(), jobId, spec, workers, this::onUpdate)
        .toCompletableFuture();
  }

  private JobWatch(LocalCluster cluster, String jobId) {
    this.cluster = cluster;
    this.jobId = jobId;
    this.outcome = new java.util.concurrent.CompletableFuture<>();
  }

  /**
   * Submits with a listener that never renews its watch, so that nothing but the cluster itself
   * can restart the job's coordinator after its node is lost. The outcome is fetched with
   * {@link #awaitCompletedInJournal} and {@link #fetchResult}.
   */
  static JobWatch submitWithoutRenewal(LocalCluster cluster, String jobId, JobSpec spec,
      int workers) {
    JobWatch w = new JobWatch(cluster, jobId);
    var listener = cluster.client().systemActorOf(
        org.apache.pekko.actor.typed.javadsl.Behaviors.<JobUpdate>receiveMessage(u -> {
          w.onUpdate(u);
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        }), "one-shot-" + jobId, org.apache.pekko.actor.typed.Props.empty());
    org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(cluster.client())
        .entityRefFor(dev.anvil.coordinator.JobCoordinator.TYPE_KEY, jobId)
        .tell(new dev.anvil.coordinator.JobProtocol.Submit(
            dev.anvil.core.spec.JobSpecWriter.toHocon(spec), workers, listener));
    return w;
  }

  /** Polls the journal (every 0.5 s, up to {@code timeout}) until the job's completion is in it. */
  JournalCheck.Report awaitCompletedInJournal(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JournalCheck.Report r = journal();
      if (r.completed()) {
        return r;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + jobId + " not completed in the journal within "
            + timeout + ": " + r + "\n" + anvilLogs());
      }
      TimeUnit.MILLISECONDS.sleep(500);  // polling the database; there is nothing to wait on
    }
  }

  /** The result of a finished job, asked for once. */
  JsonNode fetchResult(Duration timeout) throws Exception {
    JobClient.Outcome o = JobClient.watch(cluster.client(), jobId, u -> { })
        .toCompletableFuture().get(timeout.toSeconds(), TimeUnit.SECONDS);
    if (!o.succeeded()) {
      throw new AssertionError("job " + jobId + " failed: " + o.failure());
    }
    return new ObjectMapper().readTree(o.resultJson());
  }

  private synchronized void onUpdate(JobUpdate u) {
    if (u instanceof Accepted a) {
      if (coordinators.isEmpty() || !coordinators.get(coordinators.size() - 1)
          .equals(a.coordinator())) {
        coordinators.add(a.coordinator());
      }
    } else if (u instanceof Progress p) {
      lastRound = Math.max(lastRound, p.round());
    }
    notifyAll();
  }

  synchronized long lastRound() {
    return lastRound;
  }

  /** Index in the cluster of the node hosting the coordinator now. */
  synchronized int coordinatorNode() {
    return cluster.addresses().indexOf(coordinators.get(coordinators.size() - 1));
  }

  synchronized List<String> coordinators() {
    return List.copyOf(coordinators);
  }

  /** Waits until round {@code round} is committed and a coordinator is known. */
  synchronized void awaitRound(long round, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (lastRound < round || coordinators.isEmpty()) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || outcome.isDone()) {
        throw new AssertionError("round " + round + " not committed within " + timeout
            + " (last " + lastRound + ", outcome " + (outcome.isDone() ? outcome.join() : "-")
            + ")");
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** Waits for the job's end; it must have succeeded. Returns its result.json. */
  JsonNode awaitResult(Duration timeout) throws Exception {
    JobClient.Outcome o;
    try {
      o = outcome.get(timeout.toSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      StringBuilder logs = new StringBuilder();
      for (int i = 0; i < cluster.size(); i++) {
        logs.append("\n--- node ").append(i + 1).append('\n').append(cluster.tail(i, 25));
      }
      throw new AssertionError("job " + jobId + " did not finish within " + timeout
          + "; last round " + lastRound() + logs, e);
    }
    if (!o.succeeded()) {
      throw new AssertionError("job " + jobId + " failed: " + o.failure());
    }
    return new ObjectMapper().readTree(o.resultJson());
  }

  /** The journal's verdict for this job. */
  JournalCheck.Report journal() {
    return JournalCheck.check(cluster.client(), cluster.database(), jobId);
  }

  /** The recoveries of {@code kind} in a result. */
  static List<JsonNode> recoveries(JsonNode result, String kind) {
    List<JsonNode> out = new ArrayList<>();
    result.path("recoveries").forEach(r -> {
      if (r.path("kind").asText().equals(kind)) {
        out.add(r);
      }
    });
    return out;
  }

  /** Anvil's own log lines of every node. */
  String anvilLogs() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cluster.size(); i++) {
      sb.append("--- node ").append(i + 1).append('\n');
      cluster.tail(i, 5000).lines().filter(l -> l.contains(" d.a.") || l.contains("dev.anvil"))
          .forEach(l -> sb.append(l).append('\n'));
    }
    return sb.toString();
  }
}
