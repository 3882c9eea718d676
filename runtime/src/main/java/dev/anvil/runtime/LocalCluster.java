package dev.anvil.runtime;

import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.EmbeddedDatabase;
import dev.anvil.persistence.JournalSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of separate node JVMs on this machine, plus the embedded PostgreSQL that holds their
 * journal, started and supervised by this (launcher) process. The launcher joins as a client
 * member (role "client"): it submits jobs but never votes and hosts nothing. Each node's output
 * goes to {@code node-N.log} in the data folder. Node JVMs exit when the launcher dies, even by
 * SIGKILL, because they watch their standard input.
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
      com.typesafe.config.Config clientConfig) {
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
          List.of(), List.of(), com.typesafe.config.ConfigFactory.empty());
    }

    public Settings withNodeJvmOptions(List<List<String>> options) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, List.copyOf(options), commonJvmOptions, clientConfig);
    }

    /** Adds JVM options for every node, also nodes added or restarted later. */
    public Settings withCommonJvmOptions(List<String> options) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, List.copyOf(options), clientConfig);
    }

    /** Adds configuration to the launcher's client actor system. */
    public Settings withClientConfig(com.typesafe.config.Config config) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, commonJvmOptions, config);
    }

    public Settings withHeap(String heap) {
      return new Settings(nodes, slotsPerNode, heap, dataDirectory, externalDatabase,
          startTimeout, nodeJvmOptions, commonJvmOptions, clientConfig);
    }

    List<String> jvmOptionsOf(int index) {
      return index < nodeJvmOptions.size() ? nodeJvmOptions.get(index) : List.of();
    }
  }

  private final Settings settings;
  private EmbeddedDatabase database;
  private final DatabaseSettings db;
  private final List<Process> processes = new ArrayList<>();
  private Process databaseReaper;
  private final List<Integer> ports = new ArrayList<>();
  private final List<Integer> httpPorts = new ArrayList<>();
  /** Nodes frozen by {@link #pause} and not resumed yet. */
  private final java.util.Set<Integer> paused = new java.util.HashSet<>();
  private ActorSystem<Void> client;

  private LocalCluster(Settings settings, EmbeddedDatabase database, DatabaseSettings db,
      ActorSystem<Void> client) {
    this.settings = settings;
    this.database = database;
    this.db = db;
    this.client = client;
  }

  /** Starts the database, the node JVMs and the client, and waits until every node is up. */
  public static LocalCluster start(Settings s) {
    try {
      Files.createDirectories(s.dataDirectory());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + s.dataDirectory(), e);
    }
    EmbeddedDatabase database = null;
    Process reaper = null;
    DatabaseSettings db = s.externalDatabase();
    if (db == null) {
      database = EmbeddedDatabase.start(s.dataDirectory().resolve("postgres"));
      reaper = reaper(database.dataDirectory());
      db = new DatabaseSettings(database.jdbcUrl(), database.user(), "", true);
    }
    db.check();
    JournalSchema.createIfMissing(db);
    List<Integer> ports = new ArrayList<>();
    List<Integer> httpPorts = new ArrayList<>();
    for (int i = 0; i < s.nodes(); i++) {
      ports.add(freePort());
      httpPorts.add(freePort());
    }
    String seed = "pekko://anvil@127.0.0.1:" + ports.get(0);
    LocalCluster cluster = null;
    List<Process> started = new ArrayList<>();
    try {
      for (int i = 0; i < s.nodes(); i++) {
        started.add(launch(s, db, i, ports.get(i), httpPorts.get(i), seed));
      }
      ActorSystem<Void> client;
      try {
        client = ClusterClient.join("127.0.0.1:" + ports.get(0), s.startTimeout(),
            s.clientConfig());
      } catch (IllegalStateException e) {
        throw new IllegalStateException(e.getMessage() + "; node 1's log ("
            + s.dataDirectory().resolve("node-1.log") + "):\n" + tailOf(
            s.dataDirectory().resolve("node-1.log"), 30), e);
      }
      cluster = new LocalCluster(s, database, db, client);
      cluster.databaseReaper = reaper;
      cluster.processes.addAll(started);
      cluster.ports.addAll(ports);
      cluster.httpPorts.addAll(httpPorts);
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
        if (reaper != null) {
          reaper.destroy();
        }
      }
      throw e;
    }
  }

  /**
   * A watchdog for the embedded PostgreSQL: a shell that waits for its standard input to close
   * (this launcher exited or was killed) and then stops the server, so that not even a SIGKILL
   * of the launcher leaves it running.
   */
  private static Process reaper(Path dataDirectory) {
    String pidFile = dataDirectory.resolve("postmaster.pid").toString().replace("'", "'\\''");
    try {
      return new ProcessBuilder("sh", "-c", "while read -r _; do :; done;"
          + " kill -INT \"$(head -n 1 '" + pidFile + "' 2>/dev/null)\" 2>/dev/null; exit 0")
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the database watchdog: " + e.getMessage(), e);
    }
  }

  private static Process launch(Settings s, DatabaseSettings db, int index, int port,
      int httpPort, String seed) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java));
    String extra = System.getenv("ANVIL_NODE_JAVA_OPTS");
    if (extra != null && !extra.isBlank()) {
      command.addAll(List.of(extra.trim().replace("{node}", String.valueOf(index + 1))
          .split("\\s+")));
    }
    command.addAll(s.commonJvmOptions());
    command.addAll(s.jvmOptionsOf(index));
    command.addAll(List.of("-Xmx" + s.heap(),
        "-XX:+UseG1GC",
        "-Dlogback.configurationFile=logback-node.xml",
        "-cp", System.getProperty("java.class.path"),
        "-Danvil.node.watch-stdin=true",
        "-Danvil.worker.slots=" + s.slotsPerNode(),
        "-Dpekko.remote.artery.canonical.port=" + port,
        "-Danvil.http.port=" + httpPort,
        "-Dpekko.cluster.seed-nodes.0=" + seed,
        "-Danvil.persistence.url=" + db.url(),
        "-Danvil.persistence.user=" + db.user(),
        "-Danvil.persistence.create-schema=off",
        "dev.anvil.runtime.NodeMain"));
    Path logFile = s.dataDirectory().resolve("node-" + (index + 1) + ".log");
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    pb.environment().put("ANVIL_DB_PASSWORD", db.password());
    try {
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + (index + 1) + ": " + e.getMessage(),
          e);
    }
  }

  /** Waits for {@code count} nodes up; fails early if a node from index {@code watchFrom} on dies. */
  private void awaitNodesUp(int count, Duration timeout, int watchFrom) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Cluster cluster = Cluster.get(client);
    while (System.nanoTime() < deadline) {
      long up = StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
          .filter(m -> m.status() == MemberStatus.up() && m.hasRole("node")).count();
      if (up >= count) {
        log.info("local cluster up: {} nodes", count);
        return;
      }
      for (int i = watchFrom; i < processes.size(); i++) {
        if (!processes.get(i).isAlive()) {
          throw new IllegalStateException("node " + (i + 1) + " exited while starting (code "
              + processes.get(i).exitValue() + "); its log:\n" + tail(i, 30));
        }
      }
      try {
        TimeUnit.MILLISECONDS.sleep(100);  // polling the membership; nothing else to wait on
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the cluster starts", e);
      }
    }
    throw new IllegalStateException("the cluster did not come up with " + count + " nodes within "
        + timeout.toSeconds() + " s; node 1's log:\n" + tail(0, 30));
  }

  /** The last {@code lines} lines of node {@code index}'s log (0-based). */
  public String tail(int index, int lines) {
    return tailOf(logFile(index), lines);
  }

  private static String tailOf(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log at " + file + ")";
    }
  }

  public Path logFile(int index) {
    return settings.dataDirectory().resolve("node-" + (index + 1) + ".log");
  }

  /** The client actor system (role "client"): submit jobs through it with {@link JobClient}. */
  public ActorSystem<Void> client() {
    return client;
  }

  public int size() {
    return processes.size();
  }

  /** The HTTP API of every node (http://127.0.0.1:port), node 1 first. */
  public List<String> httpUrls() {
    return httpPorts.stream().map(p -> "http://127.0.0.1:" + p).toList();
  }

  /** host:port of every node, node 1 first. */
  public List<String> addresses() {
    return ports.stream().map(p -> "127.0.0.1:" + p).toList();
  }

  public Process process(int index) {
    return processes.get(index);
  }

  public DatabaseSettings database() {
    return db;
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
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

  /** Stops the client, then every node (gracefully, then forcibly), then the database. */
  @Override
  public void close() {
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
    for (Process p : processes) {
      try {
        p.getOutputStream().close();  // the node's parent watch sees the end and leaves
      } catch (IOException e) {
        p.destroy();
      }
    }
    for (Process p : processes) {
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
    if (databaseReaper != null) {
      try {
        databaseReaper.getOutputStream().close();
        databaseReaper.waitFor(5, TimeUnit.SECONDS);
      } catch (IOException e) {
        databaseReaper.destroy();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Starts one more node JVM that joins the running cluster through the nodes still alive;
   * returns its index. It is up when {@link #awaitNodesUp} counts it.
   */
  public int addNode() {
    int port = freePort();
    String seed = null;
    for (int i = 0; i < processes.size(); i++) {
      if (processes.get(i).isAlive()) {
        seed = "pekko://anvil@127.0.0.1:" + ports.get(i);
        break;
      }
    }
    if (seed == null) {
      throw new IllegalStateException("no live node to join through");
    }
    int index = processes.size();
    int httpPort = freePort();
    processes.add(launch(settings, db, index, port, httpPort, seed));
    ports.add(port);
    httpPorts.add(httpPort);
    return index;
  }

  /** Waits until {@code count} nodes are up in the client's view of the membership. */
  public void awaitNodesUp(int count) {
    awaitNodesUp(count, settings.startTimeout(), processes.size() - 1);
  }

  /**
   * Asks node {@code index} to leave the cluster gracefully: closes its standard input, which
   * its parent watch takes as the launcher's goodbye (the node leaves, then its JVM exits).
   */
  public void leave(int index) {
    try {
      processes.get(index).getOutputStream().close();
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
    long pid = processes.get(index).pid();
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
          .redirectErrorStream(true).start();
      String out = new String(kill.getInputStream().readAllBytes());
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid + " failed: " + out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run kill -" + signal + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /**
   * Kills node {@code index}'s JVM with SIGKILL (no shutdown hook, no goodbye: a crash) and
   * waits until the process is gone.
   */
  public void kill(int index) {
    Process p = processes.get(index);
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
  }

  /** Whether node {@code index}'s JVM runs. */
  public boolean alive(int index) {
    return processes.get(index).isAlive();
  }

  /**
   * Starts node {@code index} again, on its old address, after its JVM has exited (killed,
   * downed or left): a new incarnation that joins through the nodes alive (or, when none is,
   * forms the cluster again as node 1 would). Returns without waiting for it to be up.
   */
  public synchronized void restart(int index) {
    if (processes.get(index).isAlive()) {
      throw new IllegalStateException("node " + (index + 1) + " is running; kill it first");
    }
    String seed = "pekko://anvil@127.0.0.1:" + ports.get(index);
    for (int i = 0; i < processes.size(); i++) {
      if (i != index && processes.get(i).isAlive()) {
        seed = "pekko://anvil@127.0.0.1:" + ports.get(i);
        break;
      }
    }
    processes.set(index, launch(settings, db, index, ports.get(index), httpPorts.get(index),
        seed));
  }

  /**
   * Kills every node JVM at once (SIGKILL) and the launcher's client, then starts all nodes again
   * on their addresses, as after a power cut: the cluster forms anew and jobs continue from the
   * journal. Returns once every node is up and a new client has joined; {@link #client()} is the
   * new client afterwards.
   */
  public synchronized void restartAll() {
    for (int i = 0; i < processes.size(); i++) {
      processes.get(i).destroyForcibly();
    }
    for (int i = 0; i < processes.size(); i++) {
      kill(i);
    }
    client.terminate();
    try {
      client.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.debug("old client did not stop in time: {}", e.toString());
    }
    String seed = "pekko://anvil@127.0.0.1:" + ports.get(0);
    for (int i = 0; i < processes.size(); i++) {
      processes.set(i, launch(settings, db, i, ports.get(i), httpPorts.get(i), seed));
    }
    client = ClusterClient.join("127.0.0.1:" + ports.get(0), settings.startTimeout(),
        settings.clientConfig());
    awaitNodesUp(processes.size(), settings.startTimeout(), 0);
  }

  /** Nodes up in the client's view of the membership (role "node"). */
  public int nodesUp() {
    return (int) StreamSupport.stream(Cluster.get(client).state().getMembers().spliterator(),
        false).filter(m -> m.status() == MemberStatus.up() && m.hasRole("node")).count();
  }

  /** PIDs of the node JVMs, node 1 first. */
  public List<Long> nodePids() {
    return processes.stream().map(Process::pid).toList();
  }
}
