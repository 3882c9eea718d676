package dev.anvil.runtime;

import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.EmbeddedDatabase;
import dev.anvil.persistence.JournalSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of separate node JVMs on this machine, plus the embedded PostgreSQL that holds their
 * journal, started and supervised by this (launcher) process. The launcher joins as a client
 * member (role "client"): it submits jobs but never votes and hosts nothing. Each node's output
 * goes to {@code node-N.log} in the data folder. Node JVMs exit when the launcher dies, even by
 * SIGKILL, because they watch their standard input.
 *
 * <p>Membership by incarnation: a node is its live process's member, told apart from earlier
 * incarnations at the same host:port by its unique id ({@link Incarnations}). When a node's
 * process exits (killed, crashed, left) the launcher, which knows it is gone, downs that
 * incarnation at once instead of waiting for the split-brain resolver. Every node lists every
 * other node as a seed (node 1 lists itself first when it forms the cluster), and so does the
 * client. When every node process has exited without the launcher asking, the client's
 * {@link ClusterLoss} is told, so that waits on the cluster end.
 */
public final class LocalCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);

  /**
   * How to start the cluster. {@code nodeJvmOptions} holds extra JVM options per node (entry i
   * for node i + 1; missing entries mean none), on top of {@code commonJvmOptions} and
   * ANVIL_NODE_JAVA_OPTS for every node; {@code clientConfig} is added to the launcher's client
   * actor system's configuration.
   */
  public record Settings(int nodes, int slotsPerNode, String heap, Path dataDirectory,
      DatabaseSettings externalDatabase, Duration startTimeout,
      List<List<String>> nodeJvmOptions, List<String> commonJvmOptions,
      com.typesafe.config.Config clientConfig, boolean downExitedNodes, boolean tls) {
    public Settings {
      if (nodes < 1) {
        throw new IllegalArgumentException("--nodes = " + nodes + ": must be at least 1");
      }
      if (slotsPerNode < 1) {
        throw new IllegalArgumentException("worker slots per node = " + slotsPerNode
            + ": must be at least 1");
      }
    }

    public static Settings of(int nodes, int slotsPerNode, Path dataDirectory) {
      return new Settings(nodes, slotsPerNode, "2g", dataDirectory, null, Duration.ofSeconds(90),
          List.of(), List.of(), com.typesafe.config.ConfigFactory.empty(), true, true);
    }

    public Settings withNodeJvmOptions(List<List<String>> options) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, List.copyOf(options), commonJvmOptions, clientConfig, downExitedNodes,
          tls);
    }

    /** Adds JVM options for every node, also nodes added or restarted later. */
    public Settings withCommonJvmOptions(List<String> options) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, List.copyOf(options), clientConfig, downExitedNodes,
          tls);
    }

    /** Adds configuration to the launcher's client actor system. */
    public Settings withClientConfig(com.typesafe.config.Config config) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, commonJvmOptions, config, downExitedNodes, tls);
    }

    public Settings withHeap(String heap) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, commonJvmOptions, clientConfig, downExitedNodes,
          tls);
    }

    /**
     * Whether the launcher downs a node's incarnation as soon as its process exits (default), as
     * an operator would; off, only the split-brain resolver downs it (after detection and
     * stable-after), as on hosts without a launcher.
     */
    public Settings withDownExitedNodes(boolean down) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, commonJvmOptions, clientConfig, down, tls);
    }

    /**
     * Lets the nodes read data files in {@code folders} as well as in the configured
     * {@code anvil.data.allowed-roots}: the folders of a job file of the user's own, which the
     * nodes otherwise treat as a job from elsewhere.
     */
    public Settings allowingDataIn(List<Path> folders) {
      if (folders.isEmpty()) {
        return this;
      }
      List<String> roots = dev.anvil.core.spec.SpecRules.rootsWith(folders);
      List<String> options = new ArrayList<>(commonJvmOptions);
      options.removeIf(o -> o.startsWith("-Danvil.data.allowed-roots."));
      for (int i = 0; i < roots.size(); i++) {
        options.add("-Danvil.data.allowed-roots." + i + "=" + roots.get(i));
      }
      return withCommonJvmOptions(options);
    }

    /** Lets the nodes read the data of {@code spec} (see {@link #allowingDataIn}). */
    public Settings allowingDataOf(dev.anvil.core.spec.JobSpec spec) {
      if (spec.data() instanceof dev.anvil.core.spec.DataSpec.Idx idx) {
        return allowingDataIn(List.of(idx.path()));
      } else if (spec.data() instanceof dev.anvil.core.spec.DataSpec.Csv csv
          && csv.path().toAbsolutePath().getParent() != null) {
        return allowingDataIn(List.of(csv.path().toAbsolutePath().getParent()));
      }
      return this;
    }

    /**
     * Whether members talk mutual TLS (default): the launcher makes a throw-away CA for the run
     * (its key never written), one member certificate in {@code dataDirectory/tls} (0600 files,
     * 0700 folder) for the nodes and its client. Off: plain TCP on loopback, to measure what
     * TLS costs.
     */
    public Settings withTls(boolean on) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, commonJvmOptions, clientConfig, downExitedNodes, on);
    }

    /**
     * Mutual TLS with the member credentials in {@code folder} (anvil certs issue) instead of a
     * throw-away CA: for a cluster whose CA is the user's own.
     */
    public Settings withTlsFolder(Path folder) {
      List<String> options = new ArrayList<>(commonJvmOptions);
      options.removeIf(o -> o.startsWith("-Danvil.tls.directory="));
      options.add("-Danvil.tls.directory=" + folder.toAbsolutePath());
      return withCommonJvmOptions(options).withClientConfig(com.typesafe.config.ConfigFactory
          .parseMap(java.util.Map.of("anvil.tls.directory", folder.toAbsolutePath().toString()))
          .withFallback(clientConfig));
    }

    List<String> jvmOptionsOf(int index) {
      return index < nodeJvmOptions.size() ? nodeJvmOptions.get(index) : List.of();
    }
  }

  private final Settings settings;
  private EmbeddedDatabase database;
  private final DatabaseSettings db;
  /** Guards the node lists, incarnations and exit bookkeeping (never held while waiting). */
  private final Object lock = new Object();
  private final List<Process> processes = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final List<Integer> httpPorts = new ArrayList<>();
  private final Incarnations incarnations = new Incarnations();
  /** Processes whose exit the launcher caused (kill, leave, restart of all, close). */
  private final java.util.Set<Process> expectedExits = java.util.Collections.newSetFromMap(
      new java.util.IdentityHashMap<>());
  private boolean closing;
  /** Nodes frozen by {@link #pause} and not resumed yet. */
  private final java.util.Set<Integer> paused = new java.util.HashSet<>();
  private volatile ActorSystem<Void> client;

  private LocalCluster(Settings settings, EmbeddedDatabase database, DatabaseSettings db,
      ActorSystem<Void> client) {
    this.settings = settings;
    this.database = database;
    this.db = db;
    this.client = client;
  }

  /** Starts the database, the node JVMs and the client, and waits until every node is up. */
  public static LocalCluster start(Settings settings) {
    try {
      Files.createDirectories(settings.dataDirectory());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + settings.dataDirectory(), e);
    }
    Settings s = settings.tls() && !settings.clientConfig().hasPath("anvil.tls.directory")
        ? settings.withTlsFolder(throwAwayCredentials(settings.dataDirectory().resolve("tls")))
        : settings;
    EmbeddedDatabase database = null;
    DatabaseSettings db = s.externalDatabase();
    if (db == null) {
      database = EmbeddedDatabase.start(s.dataDirectory().resolve("postgres"));
      db = database.settings(true);
    }
    db.check();
    JournalSchema.createIfMissing(db);
    List<Integer> ports = new ArrayList<>();
    List<Integer> httpPorts = new ArrayList<>();
    java.util.Set<Integer> taken = new java.util.HashSet<>();
    for (int i = 0; i < s.nodes(); i++) {
      ports.add(LocalPorts.freePort(taken));
      httpPorts.add(LocalPorts.freePort(taken));
    }
    LocalCluster cluster = null;
    List<Process> started = new ArrayList<>();
    try {
      for (int i = 0; i < s.nodes(); i++) {
        started.add(NodeProcesses.launch(s, db, i, ports.get(i), httpPorts.get(i), NodeProcesses.seeds(ports, i, i == 0)));
      }
      ActorSystem<Void> client;
      try {
        client = ClusterClient.join(ports.stream().map(p -> "127.0.0.1:" + p).toList(),
            s.startTimeout(), s.clientConfig());
      } catch (IllegalStateException e) {
        throw new IllegalStateException(e.getMessage() + "; node 1's log ("
            + s.dataDirectory().resolve("node-1.log") + "):\n" + NodeProcesses.tailOf(
            s.dataDirectory().resolve("node-1.log"), 30), e);
      }
      cluster = new LocalCluster(s, database, db, client);
      for (int i = 0; i < s.nodes(); i++) {
        cluster.adopt(started.get(i), ports.get(i), httpPorts.get(i));
      }
      cluster.hintLogs();
      cluster.awaitNodesUp(s.nodes(), s.startTimeout(), 0);
      return cluster;
    } catch (RuntimeException e) {
      if (cluster != null) {
        cluster.close();
      } else {
        started.forEach(Process::destroyForcibly);
        if (database != null) {
          database.close();
        }
      }
      throw e;
    }
  }

  /**
   * A new CA for this run only, and one member certificate (for 127.0.0.1) signed by it, written
   * to {@code folder}. The CA's key stays in memory: no later certificate can be signed with it.
   */
  static Path throwAwayCredentials(Path folder) {
    dev.anvil.runtime.tls.ClusterCa ca = dev.anvil.runtime.tls.ClusterCa.create(
        "anvil local run", java.time.Duration.ofDays(30));
    ca.issue("local member", List.of("127.0.0.1"), List.of("localhost"),
        java.time.Duration.ofDays(30)).save(folder);
    return folder;
  }

  /** Records a launched node process: its ports, its incarnation, and what its exit means. */
  private int adopt(Process process, int port, int httpPort) {
    int index;
    synchronized (lock) {
      index = incarnations.add("127.0.0.1:" + port);
      processes.add(process);
      ports.add(port);
      httpPorts.add(httpPort);
    }
    watchExit(index, process);
    return index;
  }

  /**
   * When node {@code index}'s process exits: its incarnation is retired and downed, and if no
   * node process is left that the launcher did not stop itself, the cluster is lost.
   */
  private void watchExit(int index, Process process) {
    process.onExit().thenRun(() -> {
      boolean lost;
      synchronized (lock) {
        if (processes.get(index) != process) {
          return;  // an older process of a node already started again
        }
        retire(index);
        lost = !closing && processes.stream().noneMatch(Process::isAlive)
            && processes.stream().anyMatch(p -> !expectedExits.contains(p));
      }
      if (lost) {
        ClusterLoss.get(client).report("every node JVM of the local cluster has exited"
            + " (node " + (index + 1) + " last, exit code " + process.exitValue() + ")");
      }
    });
  }

  /**
   * Retires node {@code index}'s incarnation (its process is gone) and downs it, unless the
   * settings leave that to the split-brain resolver. Holds lock.
   */
  private void retire(int index) {
    ActorSystem<Void> c = client;
    List<Incarnations.Seen> dead = incarnations.retire(index, members(c));
    if (!settings.downExitedNodes()) {
      return;
    }
    for (Incarnations.Seen gone : dead) {
      log.info("node {} ({}#{}) is gone; downing that incarnation", index + 1, gone.hostPort(),
          gone.uid());
      Cluster.get(c).manager().tell(Down.apply(new org.apache.pekko.actor.Address("pekko",
          "anvil", "127.0.0.1", ports.get(index))));
    }
  }

  /** The client's view of the membership. */
  private static List<Incarnations.Seen> members(ActorSystem<?> client) {
    var state = Cluster.get(client).state();
    List<Incarnations.Seen> out = new ArrayList<>();
    for (Member m : state.getMembers()) {
      out.add(new Incarnations.Seen(m.address().getHost().orElse("?") + ":"
          + m.address().getPort().orElse(0), m.uniqueAddress().longUid(),
          m.status().toString(), m.hasRole("node"), !state.getUnreachable().contains(m)));
    }
    return out;
  }

  /** Whether every reachable Up member has seen the client's newest view of the membership. */
  private static boolean converged(ActorSystem<?> client) {
    var state = Cluster.get(client).state();
    for (Member m : state.getMembers()) {
      if (m.status() == MemberStatus.up() && !state.getUnreachable().contains(m)
          && !state.getSeenBy().contains(m.address())) {
        return false;
      }
    }
    return true;
  }

  private void hintLogs() {
    ClusterLoss.get(client).hint("node logs in " + settings.dataDirectory().toAbsolutePath());
  }

  /**
   * Waits until {@code count} nodes are up by incarnation and every member has seen it; fails
   * early if a node from index {@code watchFrom} on exits.
   */
  private void awaitNodesUp(int count, Duration timeout, int watchFrom) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (nodesUp() >= count && converged(client)) {
        log.info("local cluster up: {} nodes", count);
        return;
      }
      for (int i = watchFrom; i < size(); i++) {
        Process p = process(i);
        if (!p.isAlive() && !expectedExit(p)) {
          throw new IllegalStateException("node " + (i + 1) + " exited while starting (code "
              + p.exitValue() + "); its log (" + logFile(i) + "):\n" + tail(i, 30));
        }
      }
      pollPause("the cluster to come up");
    }
    throw new IllegalStateException("the cluster did not come up with " + count + " nodes within "
        + timeout.toSeconds() + " s (" + nodesUp() + " up); node logs in "
        + settings.dataDirectory() + "; node 1's log:\n" + tail(0, 30));
  }

  private boolean expectedExit(Process p) {
    synchronized (lock) {
      return expectedExits.contains(p);
    }
  }

  private static void pollPause(String what) {
    try {
      TimeUnit.MILLISECONDS.sleep(100);  // polling the membership; nothing else to wait on
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + what, e);
    }
  }

  /** The last {@code lines} lines of node {@code index}'s log (0-based). */
  public String tail(int index, int lines) {
    return NodeProcesses.tailOf(logFile(index), lines);
  }

  public Path logFile(int index) {
    return settings.dataDirectory().resolve("node-" + (index + 1) + ".log");
  }

  /** The client actor system (role "client"): submit jobs through it with {@link JobClient}. */
  public ActorSystem<Void> client() {
    return client;
  }

  public int size() {
    synchronized (lock) {
      return processes.size();
    }
  }

  /** The HTTP API of every node (http://127.0.0.1:port), node 1 first. */
  public List<String> httpUrls() {
    synchronized (lock) {
      return httpPorts.stream().map(p -> "http://127.0.0.1:" + p).toList();
    }
  }

  /** host:port of every node, node 1 first. */
  public List<String> addresses() {
    synchronized (lock) {
      return ports.stream().map(p -> "127.0.0.1:" + p).toList();
    }
  }

  /**
   * The member credentials the nodes and the client use (a client joining from elsewhere gives
   * it as --tls), or null when the cluster runs plain TCP.
   */
  public Path tlsFolder() {
    return settings.clientConfig().hasPath("anvil.tls.directory")
        ? Path.of(settings.clientConfig().getString("anvil.tls.directory")) : null;
  }

  /** The data folder: the database, and each node's log {@code node-N.log}. */
  public Path dataDirectory() {
    return settings.dataDirectory();
  }

  public Process process(int index) {
    synchronized (lock) {
      return processes.get(index);
    }
  }

  /** The unique id of node {@code index}'s live incarnation, or -1 while it has none up. */
  public long uid(int index) {
    synchronized (lock) {
      Incarnations.Seen m = incarnations.current(index, members(client));
      return m == null ? -1 : m.uid();
    }
  }

  public DatabaseSettings database() {
    return db;
  }

  /**
   * Stops the embedded database, as an outage would (for tests): the nodes' connections fail
   * until {@link #startDatabase()}.
   */
  public synchronized void stopDatabase() {
    if (database == null) {
      throw new IllegalStateException("the cluster uses an external database");
    }
    database.close();
  }

  /** Starts the embedded database again, on the same port and data, after stopDatabase(). */
  public synchronized void startDatabase() {
    if (database == null) {
      throw new IllegalStateException("the cluster uses an external database");
    }
    database = EmbeddedDatabase.start(database.dataDirectory(), database.port());
  }

  /**
   * Stops the client, then every node (gracefully, then forcibly), then the database. Once:
   * a second call returns at once.
   */
  @Override
  public void close() {
    List<Process> all;
    synchronized (lock) {
      if (closing) {
        return;
      }
      closing = true;
      all = List.copyOf(processes);
      expectedExits.addAll(all);
    }
    client.terminate();
    try {
      client.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.debug("client did not stop in time: {}", e.toString());
    }
    for (int index : List.copyOf(paused)) {
      try {
        resume(index);  // a frozen node cannot hear the goodbye below
      } catch (RuntimeException e) {
        log.debug("node {} stays frozen and is killed below: {}", index + 1, e.toString());
      }
    }
    for (Process p : all) {
      try {
        p.getOutputStream().close();  // the node's parent watch sees the end and leaves
      } catch (IOException e) {
        p.destroy();
      }
    }
    for (Process p : all) {
      try {
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
    if (database != null) {
      database.close();
    }
  }

  /**
   * Starts one more node JVM that joins the running cluster through all the others; returns
   * its index. It is up when {@link #awaitNodesUp} counts it.
   */
  public int addNode() {
    List<Integer> all;
    int port;
    int httpPort;
    synchronized (lock) {
      if (processes.stream().noneMatch(Process::isAlive)) {
        throw new IllegalStateException("no live node to join through");
      }
      all = new ArrayList<>(ports);
      java.util.Set<Integer> taken = new java.util.HashSet<>(ports);
      taken.addAll(httpPorts);
      port = LocalPorts.freePort(taken);
      httpPort = LocalPorts.freePort(taken);
    }
    all.add(port);
    int index = all.size() - 1;
    return adopt(NodeProcesses.launch(settings, db, index, port, httpPort, NodeProcesses.seeds(all, index, false)), port,
        httpPort);
  }

  /**
   * Waits until {@code count} nodes are up by incarnation (Up, reachable, seen by every member);
   * fails early, with its log, if the newest node's process exits.
   */
  public void awaitNodesUp(int count) {
    awaitNodesUp(count, settings.startTimeout(), size() - 1);
  }

  /**
   * Asks node {@code index} to leave the cluster gracefully: closes its standard input, which
   * its parent watch takes as the launcher's goodbye (the node leaves, then its JVM exits).
   */
  public void leave(int index) {
    Process p;
    synchronized (lock) {
      p = processes.get(index);
      expectedExits.add(p);
    }
    try {
      p.getOutputStream().close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot signal node " + (index + 1) + ": " + e.getMessage(),
          e);
    }
  }

  /** Freezes node {@code index} with SIGSTOP (it neither runs nor answers until resumed). */
  public void pause(int index) {
    signal(index, "STOP");
    paused.add(index);
  }

  /** Thaws a node frozen by {@link #pause} (SIGCONT). */
  public void resume(int index) {
    signal(index, "CONT");
    paused.remove(index);
  }

  private void signal(int index, String signal) {
    NodeProcesses.signal(process(index).pid(), signal);
  }

  /**
   * Kills node {@code index}'s JVM with SIGKILL (no shutdown hook, no goodbye: a crash), waits
   * until the process is gone, and downs its incarnation: the launcher knows it is dead, as an
   * operator or Kubernetes would, so the cluster need not wait for the split-brain resolver.
   */
  public void kill(int index) {
    Process p;
    synchronized (lock) {
      p = processes.get(index);
      expectedExits.add(p);
    }
    paused.remove(index);
    try {
      if (!p.destroyForcibly().waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("node " + (index + 1) + " (pid " + p.pid()
            + ") still runs 30 s after SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing node " + (index + 1), e);
    }
    synchronized (lock) {
      if (processes.get(index) == p) {
        retire(index);  // at once, not when the exit callback gets round to it
      }
    }
  }

  /** Whether node {@code index}'s JVM runs. */
  public boolean alive(int index) {
    return process(index).isAlive();
  }

  /**
   * Starts node {@code index} again on its old address after its JVM has exited (killed,
   * downed or left), and waits until the new incarnation is up and seen by every member
   * (at most the start timeout). It joins through every other node, or forms the cluster
   * again when none runs. Fails early, with its log, if the new process exits.
   */
  public void restart(int index) {
    restart(List.of(index), settings.startTimeout());
  }

  /**
   * Starts nodes {@code indexes} again (see {@link #restart(int)}), all at once, and waits until
   * each new incarnation is up and seen by every member, or {@code timeout} passes.
   */
  public void restart(List<Integer> indexes, Duration timeout) {
    for (int index : indexes) {
      synchronized (lock) {
        Process old = processes.get(index);
        if (old.isAlive()) {
          throw new IllegalStateException("node " + (index + 1) + " is running; kill it first");
        }
        expectedExits.add(old);
        retire(index);
        boolean othersRun = false;
        for (int i = 0; i < processes.size(); i++) {
          othersRun |= i != index && processes.get(i).isAlive();
        }
        Process p = NodeProcesses.launch(settings, db, index, ports.get(index), httpPorts.get(index),
            NodeProcesses.seeds(ports, index, !othersRun));
        processes.set(index, p);
        incarnations.launched(index);
        watchExit(index, p);
      }
    }
    awaitIncarnations(indexes, timeout);
  }

  /** Waits until each of {@code indexes} has a live incarnation up and seen by every member. */
  private void awaitIncarnations(List<Integer> indexes, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean all = true;
      for (int index : indexes) {
        Process p = process(index);
        if (!p.isAlive()) {
          throw new IllegalStateException("node " + (index + 1) + " exited after its restart"
              + " (code " + p.exitValue() + "); its log (" + logFile(index) + "):\n"
              + tail(index, 30));
        }
        synchronized (lock) {
          all &= incarnations.up(index, members(client));
        }
      }
      if (all && converged(client)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        int first = indexes.get(0);
        throw new IllegalStateException("node " + (first + 1) + " was started again but is not"
            + " up in the cluster after " + timeout.toSeconds() + " s; its log ("
            + logFile(first) + "):\n" + tail(first, 30));
      }
      pollPause("restarted nodes to join");
    }
  }

  /**
   * Starts every node whose process has exited (killed, crashed, downed and gone) again, all at
   * once, and waits until the whole cluster is up by incarnation and every member has seen it:
   * what a fault that takes nodes needs before it strikes. Fails after {@code timeout}, naming
   * the nodes not up.
   */
  public void awaitWhole(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<Integer> dead = new ArrayList<>();
      for (int i = 0; i < size(); i++) {
        if (!alive(i)) {
          dead.add(i);
        }
      }
      if (!dead.isEmpty()) {
        log.info("nodes {} are down; starting them again", dead.stream().map(i -> i + 1)
            .toList());
        restart(dead, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      }
      if (nodesUp() == size() && converged(client)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        List<Integer> notUp = new ArrayList<>();
        synchronized (lock) {
          List<Incarnations.Seen> members = members(client);
          for (int i = 0; i < processes.size(); i++) {
            if (!incarnations.up(i, members)) {
              notUp.add(i + 1);
            }
          }
        }
        throw new IllegalStateException("the cluster is not whole after " + timeout.toSeconds()
            + " s: nodes " + notUp + " are not up (node logs in " + settings.dataDirectory()
            + ")");
      }
      pollPause("the cluster to be whole");
    }
  }

  /**
   * Kills every node JVM at once (SIGKILL) and the launcher's client, then starts all nodes again
   * on their addresses, as after a power cut: the cluster forms anew and jobs continue from the
   * journal. Returns once every node is up and a new client has joined; {@link #client()} is the
   * new client afterwards.
   */
  public void restartAll() {
    List<Process> old;
    synchronized (lock) {
      old = List.copyOf(processes);
      expectedExits.addAll(old);
    }
    old.forEach(Process::destroyForcibly);
    for (int i = 0; i < old.size(); i++) {
      kill(i);
    }
    client.terminate();
    try {
      client.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.debug("old client did not stop in time: {}", e.toString());
    }
    List<Integer> allPorts;
    synchronized (lock) {
      allPorts = List.copyOf(ports);
      for (int i = 0; i < processes.size(); i++) {
        incarnations.retire(i, List.of());
        Process p = NodeProcesses.launch(settings, db, i, ports.get(i), httpPorts.get(i),
            NodeProcesses.seeds(ports, i, i == 0));
        processes.set(i, p);
        incarnations.launched(i);
        watchExit(i, p);
      }
    }
    client = ClusterClient.join(allPorts.stream().map(p -> "127.0.0.1:" + p).toList(),
        settings.startTimeout(), settings.clientConfig());
    hintLogs();
    awaitNodesUp(size(), settings.startTimeout(), 0);
  }

  /**
   * Nodes up in the client's view of the membership: the live incarnation of each node (not an
   * earlier one at the same address), status Up, reachable, role "node".
   */
  public int nodesUp() {
    synchronized (lock) {
      return incarnations.countUp(members(client));
    }
  }

  /** PIDs of the node JVMs, node 1 first. */
  public List<Long> nodePids() {
    synchronized (lock) {
      return processes.stream().map(Process::pid).toList();
    }
  }
}
