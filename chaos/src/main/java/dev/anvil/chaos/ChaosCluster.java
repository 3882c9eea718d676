package dev.anvil.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.anvil.chaos.agent.ChaosAgent;
import dev.anvil.chaos.agent.ChaosAgentExtension;
import dev.anvil.chaos.agent.Links;
import dev.anvil.chaos.agent.NodeFaults;
import dev.anvil.chaos.check.Checker;
import dev.anvil.chaos.check.Verdict;
import dev.anvil.chaos.fault.Fault;
import dev.anvil.chaos.history.History;
import dev.anvil.chaos.history.JournalReader;
import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Progress;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link LocalCluster} prepared for chaos: each node JVM runs a {@link ChaosAgent} and Artery's
 * test transport (links can be cut), the launcher's client too, and every journal event is kept so
 * that the checker sees the whole history. Faults are injected and healed through it, and each
 * attempt goes into its {@link History}. The Java API of the chaos module; the JUnit 5 extension
 * and {@code anvil chaos} are built on it.
 */
public final class ChaosCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChaosCluster.class);

  private final LocalCluster cluster;
  private final History history = new History();
  private final Duration agentTimeout;
  private final List<FollowedJob> jobs = new ArrayList<>();

  private ChaosCluster(LocalCluster cluster, Duration agentTimeout) {
    this.cluster = cluster;
    this.agentTimeout = agentTimeout;
  }

  /** Starts {@code nodes} node JVMs with {@code slots} workers each, data under {@code dir}. */
  public static ChaosCluster start(int nodes, int slots, Path dir) {
    return start(LocalClusterSettings.of(nodes, slots, dir).withHeap("1g"));
  }

  /** Starts a cluster from {@code settings}, adding what chaos needs to them. */
  public static ChaosCluster start(LocalClusterSettings settings) {
    List<String> options = new ArrayList<>(settings.commonJvmOptions());
    options.addAll(
        List.of(
            "-Dpekko.actor.typed.extensions.0=" + ChaosAgentExtension.class.getName(),
            "-Dpekko.remote.artery.advanced.test-mode=on",
            "-Danvil.checkpoint.delete-old-events=off"));
    LocalCluster cluster =
        LocalCluster.start(
            settings
                .withCommonJvmOptions(options)
                .withClientConfig(
                    ConfigFactory.parseString("pekko.remote.artery.advanced.test-mode = on")
                        .withFallback(settings.clientConfig())));
    Duration timeout =
        cluster.client().settings().config().getDuration("anvil.chaos.agent-timeout");
    return new ChaosCluster(cluster, timeout);
  }

  public LocalCluster local() {
    return cluster;
  }

  public History history() {
    return history;
  }

  public int size() {
    return cluster.size();
  }

  /**
   * Submits a job and follows it through the launcher's client (again after {@link #restartAll});
   * its progress goes into the history.
   */
  public FollowedJob submit(String jobId, JobSpec spec, int workers) {
    return submit(jobId, spec, workers, u -> {});
  }

  /** As {@link #submit(String, JobSpec, int)}, passing every update to {@code listener} too. */
  public FollowedJob submit(String jobId, JobSpec spec, int workers, Consumer<JobUpdate> listener) {
    FollowedJob job =
        FollowedJob.submit(
            cluster.client(), jobId, spec, workers, listener.andThen(u -> sample(jobId, u)));
    synchronized (jobs) {
      jobs.add(job);
    }
    return job;
  }

  private void sample(String jobId, JobUpdate u) {
    if (u instanceof Progress p) {
      history.progress(jobId, p.round(), p.loss());
    }
  }

  /** Injects {@code fault}, recording the attempt; returns whether it was injected. */
  public boolean inject(Fault fault, long round) {
    return apply(fault, History.Type.INJECT, round);
  }

  /** Heals {@code fault}, recording the attempt; returns whether it was healed. */
  public boolean heal(Fault fault, long round) {
    return apply(fault, History.Type.HEAL, round);
  }

  private boolean apply(Fault fault, History.Type type, long round) {
    long at = System.currentTimeMillis();
    try {
      String detail = type == History.Type.INJECT ? fault.inject(this) : fault.heal(this);
      if (type == History.Type.INJECT && fault.struckAtMillis() >= 0) {
        at = fault.struckAtMillis();
        round = fault.struckAtRound();
      }
      history.add(new History.Op(at, type, fault.type(), fault.target(), round, detail));
      log.info(
          "chaos: {} {} on {} at round {}: {}",
          type == History.Type.INJECT ? "injected" : "healed",
          fault.type(),
          fault.target(),
          round,
          detail);
      return true;
    } catch (RuntimeException e) {
      history.add(
          new History.Op(
              at,
              History.Type.FAIL,
              fault.type(),
              fault.target(),
              round,
              (type == History.Type.INJECT ? "inject: " : "heal: ") + e.getMessage()));
      log.warn(
          "chaos: {} of {} on {} failed: {}", type, fault.type(), fault.target(), e.getMessage());
      return false;
    }
  }

  /** Notes something in the history that is not a fault. */
  public void note(String what, long round, String detail) {
    history.add(
        new History.Op(System.currentTimeMillis(), History.Type.INFO, what, "-", round, detail));
  }

  /** Index of the node at {@code hostPort}, or -1. */
  public int indexOf(String hostPort) {
    return cluster.addresses().indexOf(hostPort);
  }

  public String address(int node) {
    return cluster.addresses().get(node);
  }

  /** Kills node {@code node}'s JVM with SIGKILL. */
  public void kill(int node) {
    cluster.kill(node);
  }

  /**
   * Starts killed (or downed) nodes again on their addresses, all at once, and waits until each new
   * incarnation is up and seen by every member.
   */
  public void restart(List<Integer> nodes, Duration timeout) {
    List<Integer> dead = nodes.stream().filter(n -> !cluster.alive(n)).toList();
    if (!dead.isEmpty()) {
      cluster.restart(dead, timeout);
    }
  }

  /**
   * Restarts every node whose JVM has exited (killed, or downed and gone) and waits until the
   * cluster is whole by incarnation: what a fault that takes nodes waits for first (with
   * keep-majority, a second node taken before the first is back could leave a minority).
   */
  public void awaitWhole(Duration timeout) {
    cluster.awaitWhole(timeout);
  }

  public void freeze(int node) {
    cluster.pause(node);
  }

  public void thaw(int node) {
    cluster.resume(node);
  }

  public void leave(int node) {
    cluster.leave(node);
  }

  public void stopDatabase() {
    cluster.stopDatabase();
  }

  public void startDatabase() {
    cluster.startDatabase();
  }

  /** Kills every node at once and starts the cluster again; jobs go on from the journal. */
  public void restartAll() {
    cluster.restartAll();
    synchronized (jobs) {
      for (FollowedJob j : jobs) {
        j.rewatch(cluster.client());
      }
    }
  }

  /** Sets the in-process faults of node {@code node} ({@link NodeFaults#NONE} heals them). */
  public void applyFaults(int node, NodeFaults faults) {
    ChaosAgent.Applied done = ask(node, r -> new ChaosAgent.Apply(faults, r));
    if (done.error() != null) {
      throw new IllegalStateException("node " + (node + 1) + ": " + done.error());
    }
  }

  /**
   * Cuts ({@code cut}) or restores every link between the nodes of {@code side} and those of {@code
   * other}, both ways. The launcher's client stays with {@code side}: its links to {@code other}
   * are cut too, so that no member bridges the partition.
   */
  public void partition(Collection<Integer> side, Collection<Integer> other, boolean cut) {
    String[] sideAddresses = side.stream().map(this::address).toArray(String[]::new);
    String[] otherAddresses = other.stream().map(this::address).toArray(String[]::new);
    if (!cut) {
      clientLinks(otherAddresses, false); // first, so that the agents' answers come through
    }
    for (int n : other) {
      linkAll(n, sideAddresses, cut);
    }
    for (int n : side) {
      linkAll(n, otherAddresses, cut);
    }
    if (cut) {
      clientLinks(otherAddresses, true); // last, for the same reason
    }
  }

  /** The client's own links (cut on its side, both ways: the other side needs no word). */
  private void clientLinks(String[] to, boolean cut) {
    for (String a : to) {
      Links.set(cluster.client(), a, cut);
    }
  }

  private void linkAll(int node, String[] to, boolean cut) {
    if (!cluster.alive(node)) {
      return; // a node that has gone (downed by the partition) has no links to restore
    }
    ChaosAgent.Applied done = ask(node, r -> new ChaosAgent.Isolate(to, cut, r));
    if (done.error() != null) {
      throw new IllegalStateException("node " + (node + 1) + ": " + done.error());
    }
  }

  private ChaosAgent.Applied ask(
      int node,
      java.util.function.Function<ActorRef<ChaosAgent.Applied>, ChaosAgent.Command> message) {
    ActorRef<ChaosAgent.Command> agent = agent(node);
    try {
      return AskPattern.<ChaosAgent.Command, ChaosAgent.Applied>ask(
              agent, message::apply, agentTimeout, cluster.client().scheduler())
          .toCompletableFuture()
          .get(agentTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(
          "the chaos agent of node "
              + (node + 1)
              + " did not"
              + " answer within "
              + agentTimeout.toSeconds()
              + " s: "
              + e,
          e);
    }
  }

  /** The agent of node {@code node}, through the receptionist (waits until it is listed). */
  private ActorRef<ChaosAgent.Command> agent(int node) {
    String address = address(node);
    long deadline = System.nanoTime() + agentTimeout.toNanos();
    while (true) {
      try {
        Receptionist.Listing listing =
            AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                    cluster.client().receptionist(),
                    r -> Receptionist.find(ChaosAgent.KEY, r),
                    agentTimeout,
                    cluster.client().scheduler())
                .toCompletableFuture()
                .get(agentTimeout.toMillis(), TimeUnit.MILLISECONDS);
        for (ActorRef<ChaosAgent.Command> a : listing.getServiceInstances(ChaosAgent.KEY)) {
          if (address.equals(a.path().address().hostPort().replaceFirst("^anvil@", ""))) {
            return a;
          }
        }
      } catch (Exception e) {
        log.debug("receptionist lookup failed: {}", e.toString());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no chaos agent on node "
                + (node + 1)
                + " ("
                + address
                + ") within "
                + agentTimeout.toSeconds()
                + " s: was it launched by ChaosCluster?");
      }
      pause(100); // the receptionist's listing spreads by gossip; polled
    }
  }

  /**
   * Reads the job's journal into the history and judges the run against the fault-free reference
   * (its hash and round count: {@link Reference#of}).
   */
  public Verdict verdict(FollowedJob job, Reference reference, Checker.Outcome outcome) {
    JournalReader.read(cluster.client(), cluster.database(), job.id(), history);
    return Checker.check(history, reference.rounds(), reference.paramsSha256(), outcome);
  }

  /** Waits for the job's end (up to {@code timeout}), then judges it: {@link #verdict}. */
  public Verdict verdict(FollowedJob job, Reference reference, Duration timeout)
      throws InterruptedException {
    return verdict(job, reference, outcome(job, timeout));
  }

  /**
   * The job's end as the checker takes it, waiting up to {@code timeout}: finished (with its hash,
   * rejected results, workers and rejoins), failed, or unfinished (no end in time, or the cluster
   * lost: nothing is known of the job).
   */
  public static Checker.Outcome outcome(FollowedJob job, Duration timeout)
      throws InterruptedException {
    FollowedJob.Ending end = job.awaitEnding(timeout);
    return switch (end.kind()) {
      case FINISHED -> finished(end.result(), job.workers());
      case FAILED -> Checker.Outcome.failed(end.reason());
      case TIMED_OUT, ABANDONED -> Checker.Outcome.unfinished(end.reason());
    };
  }

  private static Checker.Outcome finished(JsonNode result, int workers) {
    return Checker.Outcome.finished(
        result.get("paramsSha256").asText(),
        result.path("rejectedResults").asLong(),
        workers,
        result.path("workers").asInt(-1),
        rejoins(result));
  }

  /** The nodes that came back into the job, from its result's recoveries. */
  static List<Verdict.Rejoin> rejoins(JsonNode result) {
    List<Verdict.Rejoin> out = new ArrayList<>();
    for (JsonNode r : result.path("recoveries")) {
      if (r.path("kind").asText().equals("node-rejoined")) {
        out.add(
            new Verdict.Rejoin(
                r.path("detail").asText().split(" ", 2)[0],
                r.path("faultSeenMillis").asLong(),
                r.path("recoveryMillis").asLong()));
      }
    }
    return out;
  }

  @Override
  public void close() {
    cluster.close();
  }

  /**
   * Deletes {@code dir} and everything in it, so that a new cluster starts with a fresh database
   * (an old run's job of the same name must not answer).
   */
  public static void clearDirectory(Path dir) {
    try {
      dev.anvil.core.io.Directories.deleteTree(dir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "cannot clear " + dir + " for a new cluster: " + e.getMessage(), e);
    }
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
