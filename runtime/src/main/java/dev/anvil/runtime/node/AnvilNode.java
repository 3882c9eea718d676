package dev.anvil.runtime.node;

import com.typesafe.config.Config;
import dev.anvil.coordinator.JobCoordinator;
import dev.anvil.coordinator.JobMetrics;
import dev.anvil.core.plane.DataPlane;
import dev.anvil.core.plane.PlaneServer;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.persistence.JournalSchema;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.http.HttpApi;
import dev.anvil.runtime.http.HttpSettings;
import dev.anvil.runtime.tls.PemContext;
import dev.anvil.runtime.tls.TlsFiles;
import dev.anvil.worker.PreparedJobs;
import dev.anvil.worker.Worker;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Anvil cluster node in this JVM: the actor system, the node's worker slots (registered with
 * the receptionist) and the coordinator entity type. Start it from a service with {@link
 * #start(Config)}; {@link #close()} leaves the cluster gracefully.
 */
public final class AnvilNode implements AutoCloseable {
  /**
   * Created with the class, so that SLF4J initializes on the thread that starts the node, before
   * the actor system's threads log: two threads initializing it at once make SLF4J replay the
   * second one's calls, with a warning.
   */
  private static final Logger LOG = LoggerFactory.getLogger(AnvilNode.class);

  private final ActorSystem<Void> system;
  private HttpApi http;

  private AnvilNode(ActorSystem<Void> system) {
    this.system = system;
  }

  /**
   * Starts a node from {@code overrides} on top of system properties, application.conf and the
   * modules' reference.conf ({@link NodeSettings} builds them with checked values). Checks the
   * journal database first (a clear error with its URL when it does not answer) and creates the
   * schema when asked. Without seed nodes ({@code pekko.cluster.seed-nodes} empty) the node forms a
   * one-node cluster by itself.
   *
   * <p>The node runs in an actor system of its own, named {@code anvil}, which is one member of the
   * Anvil cluster. It cannot be started inside an actor system the service already has: that system
   * would have to be a cluster member of Anvil's cluster with Anvil's Artery transport (its port,
   * TLS), serializers, cluster roles, split-brain resolver and sharding settings, and its own
   * actors would then share the failure detector, downing and shutdown of the training cluster
   * (downing the member stops the service's system). A service that has an actor system keeps it
   * and starts this node beside it; the two talk through {@link JobHandle} and {@link JobListener},
   * never through each other's actors.
   */
  public static AnvilNode start(Config overrides) {
    return start(overrides, List.of());
  }

  /**
   * As {@link #start(Config)}, and the node's job meters (rounds, round times, recoveries,
   * checkpoints; {@link JobMetrics}) are also published to {@code meterRegistries}, e.g. the
   * service's own registry. They are attached before the first meter exists, so they see every
   * recording.
   */
  public static AnvilNode start(Config overrides, List<MeterRegistry> meterRegistries) {
    Config config = AnvilConfig.load(overrides);
    checkTransport(config);
    DatabaseSettings db = DatabaseSettings.from(config);
    db.check();
    if (db.createSchema()) {
      JournalSchema.createIfMissing(db);
    }
    HttpSettings httpSettings = HttpSettings.from(config);
    int slots = config.getInt("anvil.worker.slots");
    String role = config.getString("anvil.node.role");
    List<MeterRegistry> publishTo = new ArrayList<>(meterRegistries);
    PrometheusMeterRegistry prometheus = null;
    if (httpSettings.enabled()) {
      prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      publishTo.add(prometheus);
    }
    ActorSystem<Void> system =
        ActorSystem.create(
            guardian(slots),
            "anvil",
            ActorSystemSetup.create(BootstrapSetup.create(config))
                .and(new JobMetrics.Publish(publishTo)));
    try {
      startDataPlane(system, config);
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
    JobCoordinator.init(system, role);
    if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      // No seed nodes: this node forms a cluster of its own (an embedding service, a test);
      // others can join it through its address.
      Cluster.get(system).manager().tell(Join.create(system.address()));
    }
    AnvilNode node = new AnvilNode(system);
    if (prometheus != null) {
      try {
        node.http =
            HttpApi.start(system, httpSettings, db, node::workersInCluster, prometheus::scrape);
      } catch (RuntimeException e) {
        system.terminate();
        throw e;
      }
    }
    return node;
  }

  /**
   * A node that others can reach off loopback runs mutual TLS, unless its operator said otherwise
   * ({@code anvil.tls.insecure-transport}, logged at every start).
   */
  static void checkTransport(Config config) {
    if (dev.anvil.runtime.tls.TlsFiles.enabled(config)) {
      return;
    }
    String bind = config.getString("pekko.remote.artery.bind.hostname");
    String host =
        bind.isEmpty() ? config.getString("pekko.remote.artery.canonical.hostname") : bind;
    boolean loopback;
    try {
      loopback = java.net.InetAddress.getByName(host).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      loopback = false;
    }
    if (loopback) {
      return;
    }
    if (!config.getBoolean("anvil.tls.insecure-transport")) {
      throw new IllegalArgumentException(
          "this node listens on "
              + host
              + " without TLS:"
              + " anyone who reaches its cluster port could join the cluster. Give it a"
              + " certificate (anvil.tls.directory, anvil node --tls DIR; anvil certs makes them),"
              + " or accept plain TCP with anvil.tls.insecure-transport = on"
              + " (--insecure-transport)");
    }
    LOG.warn(
        "INSECURE: cluster transport is"
            + " plain TCP on {} (anvil.tls.insecure-transport = on): whoever reaches the cluster"
            + " port can join the cluster, submit, cancel and read jobs",
        host);
  }

  /**
   * Opens the node's data-plane port ({@code anvil.data-plane}) on the cluster transport's host,
   * with the cluster's TLS when the transport has it.
   */
  static void startDataPlane(ActorSystem<Void> system, Config config) {
    if (!config.getBoolean("anvil.data-plane.enabled")) {
      return;
    }
    int port = config.getInt("anvil.data-plane.port");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          "anvil.data-plane.port = " + port + ": must be 0 (any free port) or a port 1-65535");
    }
    String bind = config.getString("pekko.remote.artery.bind.hostname");
    String canonical = config.getString("pekko.remote.artery.canonical.hostname");
    String host = bind.isEmpty() ? canonical : bind;
    SSLContext tls = null;
    if (TlsFiles.enabled(config)) {
      String folder = config.getString("anvil.tls.directory");
      tls =
          folder.isEmpty()
              ? PemContext.of(
                  Path.of(
                      config.getString(
                          "pekko.remote.artery.ssl.rotating-keys-engine.secret-mount-point")))
              : TlsFiles.sslContext(Path.of(folder));
    }
    try {
      PlaneServer server = PlaneServer.start(new InetSocketAddress(host, port), tls);
      DataPlane.get(system).start(system, server, canonical);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot open the data-plane port "
              + host
              + ":"
              + port
              + " (anvil.data-plane.port): "
              + e.getMessage(),
          e);
    }
  }

  private static Behavior<Void> guardian(int slots) {
    return Behaviors.setup(
        ctx -> {
          PreparedJobs prepared =
              new PreparedJobs(SpecRules.from(ctx.getSystem().settings().config()));
          String address = ctx.getSystem().address().hostPort();
          for (int i = 0; i < slots; i++) {
            ActorRef<WorkerCommand> worker =
                ctx.spawn(
                    // A worker that fails is restarted empty: the coordinator prepares it again.
                    Behaviors.supervise(Worker.create(address + "/worker-" + i, prepared))
                        .onFailure(SupervisorStrategy.restart()),
                    "worker-" + i,
                    DispatcherSelector.fromConfig("anvil.worker.compute-dispatcher"));
            ctx.getSystem()
                .receptionist()
                .tell(Receptionist.register(TrainingProtocol.WORKERS, worker));
          }
          return Behaviors.empty();
        });
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /**
   * Submits {@code spec} as a job named after it, on every worker the cluster has now (its workers
   * registered with the receptionist, this node's included).
   */
  public JobHandle submit(JobSpec spec) {
    return submit(
        spec.name() + "-" + System.currentTimeMillis(), spec, workersInCluster(), JobListener.NONE);
  }

  /**
   * Submits {@code spec} as job {@code jobId} on {@code workers} workers; {@code listener} hears
   * its progress (on which thread, and what it may do there: {@link JobListener}). A job id already
   * known to the cluster's journal is not started again: the handle follows that job. The handle's
   * futures complete on an actor thread as well: chain blocking work with the {@code ...Async}
   * methods and an executor of the service.
   */
  public JobHandle submit(String jobId, JobSpec spec, int workers, JobListener listener) {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(listener, "listener (JobListener.NONE to hear nothing)");
    if (workers < 1) {
      throw new IllegalArgumentException("workers = " + workers + ": must be at least 1");
    }
    return new JobHandle(
        system,
        jobId,
        JobClient.submit(system, jobId, spec, workers, new ListenerCalls(jobId, listener)));
  }

  /** Worker slots registered in the cluster now (at least this node's, once registered). */
  public int workersInCluster() {
    return Math.max(
        1,
        WorkerListing.byNode(system, Duration.ofSeconds(5)).values().stream()
            .mapToInt(Integer::intValue)
            .sum());
  }

  /** This node's address, host:port. */
  public String address() {
    return system.address().hostPort();
  }

  /** The HTTP API's base URL (http://host:port, https://... with HTTPS); empty when it is off. */
  public Optional<String> httpUrl() {
    return http == null ? Optional.empty() : Optional.of(http.url());
  }

  /** Leaves the cluster and stops the actor system; waits up to {@code timeout}. */
  public void close(Duration timeout) {
    if (http != null) {
      http.close();
    }
    system.terminate();
    try {
      system
          .getWhenTerminated()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
      // terminated or not, there is nothing more to wait for
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }
}
