package dev.anvil.runtime.launcher;

import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.client.ClusterClient;
import dev.anvil.runtime.client.ClusterLoss;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.node.NodeSettings;
import dev.anvil.runtime.tls.ClusterCa;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of separate node JVMs on this machine, plus the embedded PostgreSQL that holds their
 * journal, started and supervised by this (launcher) process. The launcher joins as a client member
 * (role "client"): it submits jobs but never votes and hosts nothing. Each node's output goes to
 * {@code node-N.log} in the data folder. Node JVMs exit when the launcher dies, even by SIGKILL,
 * because they watch their standard input.
 *
 * <p>Membership by incarnation: a node is its live process's member, told apart from earlier
 * incarnations at the same host:port by its unique id ({@link Incarnations}). When a node's process
 * exits (killed, crashed, left) the launcher, which knows it is gone, downs that incarnation at
 * once instead of waiting for the split-brain resolver. Every node lists every other node as a seed
 * (node 1 lists itself first when it forms the cluster), and so does the client. When every node
 * process has exited without the launcher asking, the client's {@link ClusterLoss} is told, so that
 * waits on the cluster end.
 *
 * <p>Its parts: {@link LocalClusterSettings} say how to start it; each node's settings come from
 * {@link NodeSettings} (as for {@code anvil node}), its command line from {@link NodeProcesses};
 * {@link NodeJvms} holds the node processes and does all process control under one lock (safe from
 * any thread; see there what it orders); {@link NodeReadiness} waits, with deadlines, for nodes to
 * be up; {@link LocalDatabase} is the journal's database, behind a monitor of its own.
 */
public final class LocalCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);

  private final LocalClusterSettings settings;
  private final LocalDatabase database;
  private final NodeJvms nodes;
  private final NodeReadiness readiness;

  private LocalCluster(LocalClusterSettings settings, LocalDatabase database, NodeJvms nodes) {
    this.settings = settings;
    this.database = database;
    this.nodes = nodes;
    this.readiness = new NodeReadiness(nodes, settings.dataDirectory());
  }

  /** Starts the database, the node JVMs and the client, and waits until every node is up. */
  public static LocalCluster start(LocalClusterSettings settings) {
    try {
      Files.createDirectories(settings.dataDirectory());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + settings.dataDirectory(), e);
    }
    LocalClusterSettings s =
        settings.tls() && !settings.clientConfig().hasPath("anvil.tls.directory")
            ? settings.withTlsFolder(throwAwayCredentials(settings.dataDirectory().resolve("tls")))
            : settings;
    LocalDatabase database =
        LocalDatabase.open(s.dataDirectory().resolve("postgres"), s.externalDatabase());
    List<NodePorts> ports = new ArrayList<>();
    Set<Integer> taken = new HashSet<>();
    for (int i = 0; i < s.nodes(); i++) {
      ports.add(NodePorts.choose(taken));
    }
    List<Process> started = new ArrayList<>();
    LocalCluster cluster = null;
    try {
      for (int i = 0; i < s.nodes(); i++) {
        started.add(
            NodeProcesses.launch(
                s, database.settings(), i, ports.get(i), NodeProcesses.seeds(ports, i, i == 0)));
      }
      cluster =
          new LocalCluster(s, database, new NodeJvms(s, database.settings(), joinClient(s, ports)));
      for (int i = 0; i < s.nodes(); i++) {
        cluster.nodes.adopt(started.get(i), ports.get(i));
      }
      cluster.hintLogs();
      cluster.readiness.nodesUp(s.nodes(), s.startTimeout(), 0);
      return cluster;
    } catch (RuntimeException e) {
      if (cluster != null) {
        cluster.close();
      } else {
        started.forEach(Process::destroyForcibly);
        database.close();
      }
      throw e;
    }
  }

  /**
   * A new CA for this run only, and one member certificate (for 127.0.0.1) signed by it, written to
   * {@code folder}. The CA's key stays in memory: no later certificate can be signed with it.
   */
  static Path throwAwayCredentials(Path folder) {
    ClusterCa ca = ClusterCa.create("anvil local run", Duration.ofDays(30));
    ca.issue("local member", List.of(NodePorts.HOST), List.of("localhost"), Duration.ofDays(30))
        .save(folder);
    return folder;
  }

  /** A client member joined through every node; on failure, the error has node 1's log. */
  private static ActorSystem<Void> joinClient(LocalClusterSettings s, List<NodePorts> ports) {
    try {
      return ClusterClient.join(
          ports.stream().map(NodePorts::address).toList(), s.startTimeout(), s.clientConfig());
    } catch (IllegalStateException e) {
      Path node1 = NodeProcesses.logFile(s.dataDirectory(), 0);
      throw new IllegalStateException(
          e.getMessage() + "; node 1's log (" + node1 + "):\n" + NodeProcesses.tailOf(node1, 30),
          e);
    }
  }

  private void hintLogs() {
    ClusterLoss.get(client()).hint("node logs in " + settings.dataDirectory().toAbsolutePath());
  }

  /** The last {@code lines} lines of node {@code index}'s log (0-based). */
  public String tail(int index, int lines) {
    return NodeProcesses.tailOf(logFile(index), lines);
  }

  public Path logFile(int index) {
    return NodeProcesses.logFile(settings.dataDirectory(), index);
  }

  /** The client actor system (role "client"): submit jobs through it with {@link JobClient}. */
  public ActorSystem<Void> client() {
    return nodes.client();
  }

  public int size() {
    return nodes.size();
  }

  /** The HTTP API of every node (http://127.0.0.1:port), node 1 first. */
  public List<String> httpUrls() {
    return nodes.ports().stream().map(NodePorts::httpUrl).toList();
  }

  /** host:port of every node, node 1 first. */
  public List<String> addresses() {
    return nodes.ports().stream().map(NodePorts::address).toList();
  }

  /**
   * The member credentials the nodes and the client use (a client joining from elsewhere gives it
   * as --tls), or null when the cluster runs plain TCP.
   */
  public Path tlsFolder() {
    return settings.clientConfig().hasPath("anvil.tls.directory")
        ? Path.of(settings.clientConfig().getString("anvil.tls.directory"))
        : null;
  }

  /** The data folder: the database, and each node's log {@code node-N.log}. */
  public Path dataDirectory() {
    return settings.dataDirectory();
  }

  public Process process(int index) {
    return nodes.process(index);
  }

  /** The unique id of node {@code index}'s live incarnation, or -1 while it has none up. */
  public long uid(int index) {
    return nodes.uid(index);
  }

  public DatabaseSettings database() {
    return database.settings();
  }

  /**
   * Stops the embedded database, as an outage would (for tests): the nodes' connections fail until
   * {@link #startDatabase()}.
   */
  public void stopDatabase() {
    database.stop();
  }

  /** Starts the embedded database again, on the same port and data, after stopDatabase(). */
  public void startDatabase() {
    database.start();
  }

  /**
   * Stops the client, then every node (gracefully, then forcibly), then the database. Once: a
   * second call returns at once.
   */
  @Override
  public void close() {
    if (!nodes.beginClose()) {
      return;
    }
    terminate(client(), Duration.ofSeconds(10), "client");
    nodes.stopAll();
    database.close();
  }

  private static void terminate(ActorSystem<Void> client, Duration timeout, String which) {
    client.terminate();
    try {
      client.getWhenTerminated().toCompletableFuture().get(timeout.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      log.debug("{} did not stop in time: {}", which, e.toString());
    }
  }

  /**
   * Starts one more node JVM that joins the running cluster through all the others; returns its
   * index. It is up when {@link #awaitNodesUp} counts it.
   */
  public int addNode() {
    return nodes.addNode();
  }

  /**
   * Waits until {@code count} nodes are up by incarnation (Up, reachable, seen by every member);
   * fails early, with its log, if the newest node's process exits.
   */
  public void awaitNodesUp(int count) {
    readiness.nodesUp(count, settings.startTimeout(), size() - 1);
  }

  /**
   * Asks node {@code index} to leave the cluster gracefully: closes its standard input, which its
   * parent watch takes as the launcher's goodbye (the node leaves, then its JVM exits).
   */
  public void leave(int index) {
    nodes.leave(index);
  }

  /** Freezes node {@code index} with SIGSTOP (it neither runs nor answers until resumed). */
  public void pause(int index) {
    nodes.pause(index);
  }

  /** Thaws a node frozen by {@link #pause} (SIGCONT). */
  public void resume(int index) {
    nodes.resume(index);
  }

  /**
   * Kills node {@code index}'s JVM with SIGKILL (no shutdown hook, no goodbye: a crash), waits
   * until the process is gone, and downs its incarnation: the launcher knows it is dead, as an
   * operator or Kubernetes would, so the cluster need not wait for the split-brain resolver.
   */
  public void kill(int index) {
    nodes.kill(index);
  }

  /** Whether node {@code index}'s JVM runs. */
  public boolean alive(int index) {
    return process(index).isAlive();
  }

  /**
   * Starts node {@code index} again on its old address after its JVM has exited (killed, downed or
   * left), and waits until the new incarnation is up and seen by every member (at most the start
   * timeout). It joins through every other node, or forms the cluster again when none runs. Fails
   * early, with its log, if the new process exits.
   */
  public void restart(int index) {
    restart(List.of(index), settings.startTimeout());
  }

  /**
   * Starts nodes {@code indexes} again (see {@link #restart(int)}), all at once, and waits until
   * each new incarnation is up and seen by every member, or {@code timeout} passes.
   */
  public void restart(List<Integer> indexes, Duration timeout) {
    nodes.restart(indexes);
    readiness.restarted(indexes, timeout);
  }

  /**
   * Starts every node whose process has exited (killed, crashed, downed and gone) again, all at
   * once, and waits until the whole cluster is up by incarnation and every member has seen it: what
   * a fault that takes nodes needs before it strikes. Fails after {@code timeout}, naming the nodes
   * not up.
   */
  public void awaitWhole(Duration timeout) {
    NodeReadiness.Deadline deadline = NodeReadiness.Deadline.in(timeout);
    NodeReadiness.until(
        deadline,
        "the cluster to be whole",
        () -> {
          List<Integer> dead = nodes.exited();
          if (!dead.isEmpty()) {
            log.info(
                "nodes {} are down; starting them again", dead.stream().map(i -> i + 1).toList());
            restart(dead, deadline.left());
          }
          return nodes.nodesUp() == size() && nodes.converged();
        },
        () ->
            "the cluster is not whole after "
                + timeout.toSeconds()
                + " s: nodes "
                + notUp()
                + " are not up (node logs in "
                + settings.dataDirectory()
                + ")");
  }

  /** Numbers (1-based) of the nodes whose live incarnation is not up. */
  private List<Integer> notUp() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < size(); i++) {
      if (!nodes.up(i)) {
        out.add(i + 1);
      }
    }
    return out;
  }

  /**
   * Kills every node JVM at once (SIGKILL) and the launcher's client, then starts all nodes again
   * on their addresses, as after a power cut: the cluster forms anew and jobs continue from the
   * journal. Returns once every node is up and a new client has joined; {@link #client()} is the
   * new client afterwards.
   */
  public void restartAll() {
    nodes.killAll();
    terminate(client(), Duration.ofSeconds(30), "old client");
    nodes.startAllAgain();
    nodes.replaceClient(joinClient(settings, nodes.ports()));
    hintLogs();
    readiness.nodesUp(size(), settings.startTimeout(), 0);
  }

  /**
   * Nodes up in the client's view of the membership: the live incarnation of each node (not an
   * earlier one at the same address), status Up, reachable, role "node".
   */
  public int nodesUp() {
    return nodes.nodesUp();
  }

  /** PIDs of the node JVMs, node 1 first. */
  public List<Long> nodePids() {
    return nodes.pids();
  }
}
