package dev.anvil.runtime.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.coordinator.JobProtocol.Accepted;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.coordinator.JobProtocol.Recovered;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.client.ClusterLostException;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.node.AnvilNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * One job submitted and followed from a member of its cluster (a node, or a client such as {@link
 * LocalCluster#client()}): the newest round it committed, the nodes its coordinator ran on, and its
 * end. For the fault tests, the chaos runner and the cluster benchmarks; a service embedding Anvil
 * uses {@link AnvilNode#submit} instead.
 *
 * <p>Every wait has a deadline. A wait that must succeed ({@link #awaitRound(long, Duration)},
 * {@link #awaitResult}) throws an {@link IllegalStateException} naming what it saw when the
 * deadline passes or the job ends first; {@link #awaitEnding} never throws for the job's sake but
 * says how following ended. Following ends, as {@link JobClient}'s does, with the job's end or with
 * the loss of the cluster ({@link ClusterLostException}): a lost cluster ends every wait at once,
 * it is never mistaken for a slow job.
 */
public final class FollowedJob {
  /**
   * How often a wait looks again at what no update announces: a condition that reads the clock, the
   * caller's reason to give up, the watch that {@link #rewatch} put in place.
   */
  private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String jobId;
  private final JobSpec spec;
  private final int workers;
  private final Consumer<JobUpdate> listener;
  private final Supplier<String> diagnostics;
  private final List<String> coordinators = new ArrayList<>();
  private long round;

  /** When this client last heard each node (host:port) back in the job (node-rejoined). */
  private final Map<String, Long> rejoinedAtMillis = new HashMap<>();

  private CompletableFuture<JobClient.Outcome> outcome;

  FollowedJob(
      String jobId,
      JobSpec spec,
      int workers,
      Consumer<JobUpdate> listener,
      Supplier<String> diagnostics) {
    this.jobId = jobId;
    this.spec = spec;
    this.workers = workers;
    this.listener = listener;
    this.diagnostics = diagnostics;
  }

  /**
   * Submits {@code spec} as job {@code jobId} on {@code workers} workers through {@code client} and
   * follows it; every update goes to {@code listener} too, before this job takes it in (on an actor
   * thread: keep it short).
   */
  public static FollowedJob submit(
      ActorSystem<?> client,
      String jobId,
      JobSpec spec,
      int workers,
      Consumer<JobUpdate> listener) {
    FollowedJob job = new FollowedJob(jobId, spec, workers, listener, () -> "");
    job.follow(JobClient.submit(client, jobId, spec, workers, job::onUpdate));
    return job;
  }

  /**
   * Submits through {@code cluster}'s client; when {@link #awaitRound(long, Duration)} or {@link
   * #awaitResult} fails, its message ends with the last lines of every node's log.
   */
  public static FollowedJob submit(LocalCluster cluster, String jobId, JobSpec spec, int workers) {
    FollowedJob job = new FollowedJob(jobId, spec, workers, u -> {}, () -> tails(cluster));
    job.follow(JobClient.submit(cluster.client(), jobId, spec, workers, job::onUpdate));
    return job;
  }

  /**
   * As {@link #submit(LocalCluster, String, JobSpec, int)}, but the follower never renews its
   * watch, so that nothing but the cluster itself restarts the job's coordinator after its node is
   * lost. The end of a job whose coordinator moved is heard only after a {@link #rewatch}.
   */
  public static FollowedJob submitWithoutRenewal(
      LocalCluster cluster, String jobId, JobSpec spec, int workers) {
    FollowedJob job = new FollowedJob(jobId, spec, workers, u -> {}, () -> tails(cluster));
    job.follow(
        JobClient.submitWithoutRenewal(cluster.client(), jobId, spec, workers, job::onUpdate));
    return job;
  }

  /**
   * Follows the job again through {@code client} with a new watch, which renews itself (after the
   * whole cluster was restarted, or to hear the end of a job submitted without renewal). The waits
   * go by the new watch from now on.
   */
  public void rewatch(ActorSystem<?> client) {
    follow(JobClient.watch(client, jobId, this::onUpdate));
  }

  /** Makes {@code end} the end this job's waits go by, and wakes them when it comes. */
  synchronized void follow(CompletionStage<JobClient.Outcome> end) {
    outcome = end.toCompletableFuture();
    outcome.whenComplete((o, e) -> wake());
  }

  private synchronized void wake() {
    notifyAll();
  }

  /** Takes in one update of the job (after {@link #listener} heard it). */
  void onUpdate(JobUpdate u) {
    listener.accept(u);
    synchronized (this) {
      if (u instanceof Accepted a && !a.coordinator().equals(newestCoordinator())) {
        coordinators.add(a.coordinator());
      } else if (u instanceof Progress p) {
        round = Math.max(round, p.round());
      } else if (u instanceof Recovered r && r.recovery().kind().equals("node-rejoined")) {
        rejoinedAtMillis.put(r.recovery().detail().split(" ", 2)[0], System.currentTimeMillis());
      }
      notifyAll();
    }
  }

  private String newestCoordinator() {
    return coordinators.isEmpty() ? null : coordinators.get(coordinators.size() - 1);
  }

  public String id() {
    return jobId;
  }

  /** The spec it was submitted with. */
  public JobSpec spec() {
    return spec;
  }

  /** The number of workers it was submitted to train on. */
  public int workers() {
    return workers;
  }

  /** The newest round heard committed (0 before any). */
  public synchronized long round() {
    return round;
  }

  /** host:port of the node hosting the job's coordinator, as last announced (null before). */
  public synchronized String coordinator() {
    return newestCoordinator();
  }

  /** The nodes (host:port) its coordinator was announced on, oldest first, each move once. */
  public synchronized List<String> coordinators() {
    return List.copyOf(coordinators);
  }

  /** Whether following has ended: the job ended, or the cluster was lost. */
  public synchronized boolean done() {
    return outcome.isDone();
  }

  /**
   * Waits until {@code condition} holds for the newest committed round, or following ends, or
   * {@code timeout} passes; returns whether the condition holds. The condition may read the clock:
   * it is tested again every 0.5 s without an update.
   */
  public synchronized boolean awaitRound(LongPredicate condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test(round) && !outcome.isDone()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, RECHECK_NANOS));
    }
    return condition.test(round);
  }

  /**
   * Waits until the job reports node {@code hostPort} back in the job (its workers admitted again)
   * later than {@code sinceMillis}, or following ends, or {@code timeout} passes; returns whether
   * it was reported.
   */
  public synchronized boolean awaitRejoin(String hostPort, long sinceMillis, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (rejoinedAtMillis.getOrDefault(hostPort, 0L) <= sinceMillis && !outcome.isDone()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, RECHECK_NANOS));
    }
    return rejoinedAtMillis.getOrDefault(hostPort, 0L) > sinceMillis;
  }

  /**
   * Waits until round {@code r} is committed and the coordinator's node is known; throws an {@link
   * IllegalStateException} naming the last round heard (and how following ended, if it did) when
   * following ends first or {@code timeout} passes.
   */
  public void awaitRound(long r, Duration timeout) throws InterruptedException {
    if (!awaitRound(n -> n >= r && coordinator() != null, timeout)) {
      throw new IllegalStateException(
          "job "
              + jobId
              + ": round "
              + r
              + " not committed within "
              + timeout
              + " (last heard "
              + round()
              + (done() ? ", the job ended: " + ending() : "")
              + ")"
              + diagnostics.get());
    }
  }

  /** How following ended, in words (it must have ended). */
  private synchronized String ending() {
    try {
      JobClient.Outcome o = outcome.join();
      return o.succeeded() ? "finished" : o.failure();
    } catch (CompletionException e) {
      return e.getCause().getMessage();
    }
  }

  /** Waits up to {@code timeout} for the job's end: {@link #awaitEnding(Duration, Supplier)}. */
  public Ending awaitEnding(Duration timeout) throws InterruptedException {
    return awaitEnding(timeout, () -> null);
  }

  /**
   * Waits up to {@code timeout} for the job's end, through the newest watch. {@code giveUp} is
   * asked every 0.5 s: a reason it returns (not null) abandons the wait with that reason.
   */
  public Ending awaitEnding(Duration timeout, Supplier<String> giveUp) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      CompletableFuture<JobClient.Outcome> current;
      synchronized (this) {
        current = outcome;
      }
      long left = deadline - System.nanoTime();
      try {
        JobClient.Outcome o =
            current.get(Math.max(1, Math.min(left, RECHECK_NANOS)), TimeUnit.NANOSECONDS);
        return o.succeeded()
            ? new Ending(jobId, Ending.Kind.FINISHED, o.resultJson(), null)
            : new Ending(jobId, Ending.Kind.FAILED, null, o.failure());
      } catch (TimeoutException e) {
        String why = giveUp.get();
        if (why != null) {
          return new Ending(jobId, Ending.Kind.ABANDONED, null, why);
        }
        if (left <= 0) {
          return new Ending(
              jobId,
              Ending.Kind.TIMED_OUT,
              null,
              "no outcome within " + timeout.toSeconds() + " s; last round heard " + round());
        }
      } catch (ExecutionException e) {
        return new Ending(
            jobId,
            Ending.Kind.ABANDONED,
            null,
            e.getCause() instanceof ClusterLostException
                ? e.getCause().getMessage() + " (last round heard " + round() + ")"
                : "following the job failed: " + e.getCause());
      }
    }
  }

  /**
   * The result.json of the job, which must finish within {@code timeout}; otherwise an {@link
   * IllegalStateException}: "job ID failed: why", or "job ID has no result: why" when it did not
   * end (in time, or that this member could hear).
   */
  public JsonNode awaitResult(Duration timeout) throws InterruptedException {
    Ending end = awaitEnding(timeout);
    if (end.kind() == Ending.Kind.FINISHED) {
      return end.result();
    }
    throw new IllegalStateException(
        "job "
            + jobId
            + (end.kind() == Ending.Kind.FAILED ? " failed: " : " has no result: ")
            + end.reason()
            + diagnostics.get());
  }

  /** The last 25 lines of every node's log, each under a "--- node N" line. */
  private static String tails(LocalCluster cluster) {
    StringBuilder logs = new StringBuilder();
    for (int i = 0; i < cluster.size(); i++) {
      logs.append("\n--- node ").append(i + 1).append('\n').append(cluster.tail(i, 25));
    }
    return logs.toString();
  }

  /**
   * How following a job ended. {@code FINISHED}: {@code resultJson} is its result. {@code FAILED}:
   * the job failed or was refused, {@code reason} says why. {@code TIMED_OUT}: no end within the
   * deadline; {@code ABANDONED}: following stopped first (the cluster was lost, or the caller gave
   * up), {@code reason} says why. The last two say nothing of the job.
   */
  public record Ending(String jobId, Kind kind, String resultJson, String reason) {
    /** The four ways following a job ends. */
    public enum Kind {
      FINISHED,
      FAILED,
      TIMED_OUT,
      ABANDONED
    }

    /** The result.json of a finished job, read. */
    public JsonNode result() {
      if (kind != Kind.FINISHED) {
        throw new IllegalStateException("job " + jobId + " has no result: " + kind + ", " + reason);
      }
      try {
        return JSON.readTree(resultJson);
      } catch (IOException e) {
        throw new UncheckedIOException("unreadable result.json of job " + jobId, e);
      }
    }
  }
}
