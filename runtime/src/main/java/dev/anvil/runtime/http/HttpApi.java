package dev.anvil.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.tls.TlsFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's JSON API:
 *
 * <pre>
 * GET  /api/cluster                  members: address, status, roles, reachable
 * GET  /api/jobs                     jobs the journal holds, with their state
 * GET  /api/jobs/{id}                a job's state and its recent rounds (round, loss, time)
 * POST /api/jobs?id=ID&amp;workers=N     submit the body (a job spec, HOCON or JSON)
 * POST /api/jobs/{id}/pause|resume|cancel
 * GET  /metrics                      Prometheus text format
 * GET  /                             the live dashboard (a page; /api/events streams its data)
 * GET  /health/alive, /health/ready   probes: the node runs; the node is Up in the cluster
 * </pre>
 *
 * Every error is a 4xx (5xx when the node itself fails) with {"error": message}, never a stack
 * trace. Mutating requests need {@code Authorization: Bearer TOKEN} once a token is set. This class
 * sets up the server (HTTP or HTTPS, the probes' own port), passes each request through the {@link
 * RequestGuard}, routes it to its resource ({@link JobsResource}, {@link ClusterResource}, {@link
 * MonitoringResource}) and sends the answer as JSON.
 */
public final class HttpApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

  /** Threads for requests besides the dashboards' streams. */
  private static final int THREADS = 16;

  private final HttpServer server;
  private final ExecutorService executor;
  private final ActorSystem<?> system;
  private final HttpSettings settings;
  private final RequestGuard guard;

  /** The probes' own server (anvil.http.probe-port), or null. */
  private HttpServer probes;

  private final JobRecords records;
  private final ObjectMapper json = new ObjectMapper();
  private final JobsResource jobs;
  private final ClusterResource cluster;
  private final MonitoringResource monitoring;

  private HttpApi(
      HttpServer server,
      ExecutorService executor,
      ActorSystem<?> system,
      HttpSettings settings,
      DatabaseSettings db,
      IntSupplier workers,
      Supplier<String> metrics) {
    this.server = server;
    this.executor = executor;
    this.system = system;
    this.settings = settings;
    this.guard = new RequestGuard(settings);
    this.records = new JobRecords(system, db);
    this.jobs = new JobsResource(system, records, workers, settings.maxBodyBytes(), json);
    this.cluster = new ClusterResource(system, records);
    this.monitoring = new MonitoringResource(system, records, metrics, json);
  }

  /**
   * Starts the API of the node running {@code system}; {@code workers} counts the cluster's workers
   * (a submission's default); {@code metrics} renders /metrics (Prometheus text).
   */
  public static HttpApi start(
      ActorSystem<?> system,
      HttpSettings settings,
      DatabaseSettings db,
      IntSupplier workers,
      Supplier<String> metrics) {
    // The JDK server reads these once, when it is first used; a JVM that set them keeps its own.
    // A client has 10 s to send its request (headers and body): slow ones cannot hold threads.
    System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", "10");
    System.getProperties().putIfAbsent("sun.net.httpserver.maxReqHeaders", "64");
    HttpServer server = server(settings);
    ExecutorService executor =
        Executors.newFixedThreadPool(Pages.EventStream.MAX + THREADS, HttpApi::daemon);
    HttpApi api = new HttpApi(server, executor, system, settings, db, workers, metrics);
    server.setExecutor(executor);
    server.createContext("/", api::handle);
    if (settings.probePort() >= 0) {
      api.probes = api.probeServer();
    }
    server.start();
    log.info("HTTP API on {}", api.url());
    return api;
  }

  /** The API's server, HTTPS when {@code settings} say so; not started. */
  private static HttpServer server(HttpSettings settings) {
    try {
      InetSocketAddress at = new InetSocketAddress(settings.host(), settings.port());
      if (settings.httpsFolder() == null) {
        return HttpServer.create(at, 50);
      }
      HttpsServer https = HttpsServer.create(at, 50);
      https.setHttpsConfigurator(
          new HttpsConfigurator(TlsFiles.sslContext(settings.httpsFolder())));
      return https;
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot serve the HTTP API on "
              + settings.host()
              + ":"
              + settings.port()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** The probes' own server, with two threads of its own, started. */
  private HttpServer probeServer() {
    HttpServer s;
    try {
      s = HttpServer.create(new InetSocketAddress(settings.host(), settings.probePort()), 8);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot serve the health probes on "
              + settings.host()
              + ":"
              + settings.probePort()
              + ": "
              + e.getMessage(),
          e);
    }
    s.setExecutor(Executors.newFixedThreadPool(2, HttpApi::daemon));
    s.createContext("/", x -> probe(x, x.getRequestURI().getRawPath()));
    s.start();
    return s;
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "anvil-http");
    t.setDaemon(true);
    return t;
  }

  /** The API's base URL, http://host:port. */
  public String url() {
    return (settings.httpsFolder() != null ? "https://" : "http://")
        + settings.host()
        + ":"
        + server.getAddress().getPort();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The probes' own port, or -1 when they have none. */
  public int probePort() {
    return probes == null ? -1 : probes.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) {
    String path = exchange.getRequestURI().getRawPath();
    RequestGuard.Refusal refused = guard.refusal(exchange, path);
    if (refused != null) {
      drain(exchange);
      answer(exchange, refused.status(), Map.of("error", refused.message()));
      return;
    }
    if (exchange.getRequestMethod().equals("GET")) {
      if (path.equals("/health/alive") || path.equals("/health/ready")) {
        probe(exchange, path);
        return;
      }
      if (monitoring.servePage(exchange, path)) {
        return;
      }
    }
    Answer a;
    try {
      a = route(exchange, path);
    } catch (HttpError e) {
      a = new Answer(e.status(), Map.of("error", e.getMessage()));
    } catch (RuntimeException | SQLException | IOException e) {
      log.warn("HTTP {} {} failed: {}", exchange.getRequestMethod(), path, e.toString());
      a = new Answer(500, Map.of("error", "the node could not answer (its log says why)"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      a = new Answer(503, Map.of("error", "the node is stopping"));
    }
    answer(exchange, a.status(), a.body());
  }

  /** Reads and drops a refused request's body (up to a limit), so the client hears why. */
  private static void drain(HttpExchange x) {
    try {
      ApiRequest.discard(x.getRequestBody());
    } catch (IOException e) {
      // The answer may still get through.
    }
  }

  /** Sends {@code body} as JSON with {@code status} and closes the exchange. */
  private void answer(HttpExchange exchange, int status, Object body) {
    try (exchange) {
      byte[] bytes = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
      exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException e) {
      log.debug("HTTP response not sent: {}", e.toString());
    }
  }

  /** Answers a health probe: alive while the node runs, ready while it is Up in the cluster. */
  private void probe(HttpExchange exchange, String path) {
    if (path.equals("/health/alive")) {
      Pages.health(exchange, !system.whenTerminated().isCompleted(), "the node is stopping");
    } else if (path.equals("/health/ready")) {
      var self = Cluster.get(system).selfMember();
      Pages.health(
          exchange,
          self.status() == MemberStatus.up(),
          "this node is " + self.status() + " in the cluster, not Up");
    } else {
      answer(exchange, 404, Map.of("error", "this port serves /health/alive and /health/ready"));
    }
  }

  /** The resource that answers {@code x}, after its method and (to change things) token. */
  private Answer route(HttpExchange x, String path)
      throws IOException, SQLException, InterruptedException {
    String method = x.getRequestMethod();
    switch (path) {
      case "/api/cluster" -> {
        allow(method, "GET");
        return cluster.get();
      }
      case "/api/dashboard" -> {
        allow(method, "GET");
        return monitoring.snapshot();
      }
      case "/api/jobs" -> {
        if (method.equals("GET")) {
          return jobs.list();
        }
        allow(method, "POST");
        authorize(x);
        return jobs.submit(x);
      }
      default -> {
        return job(x, method, path);
      }
    }
  }

  /** /api/jobs/{id} and /api/jobs/{id}/{action}. */
  private Answer job(HttpExchange x, String method, String path)
      throws IOException, SQLException, InterruptedException {
    ApiRequest.JobPath job = ApiRequest.jobPath(path);
    if (job == null) {
      throw new HttpError(404, "no such resource (see GET /api/jobs, GET /api/cluster)");
    }
    if (job.action() == null) {
      allow(method, "GET");
      return jobs.status(job.jobId());
    }
    allow(method, "POST");
    authorize(x);
    return jobs.control(job.jobId(), job.action(), x);
  }

  private static void allow(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new HttpError(405, "this method is not allowed here; use " + allowed);
    }
  }

  /** Mutating requests carry the bearer token. */
  private void authorize(HttpExchange x) {
    if (!guard.authorized(x)) {
      throw new HttpError(401, RequestGuard.NEEDS_TOKEN);
    }
  }

  @Override
  public void close() {
    monitoring.close();
    if (probes != null) {
      probes.stop(0);
      ((ExecutorService) probes.getExecutor()).shutdownNow();
    }
    server.stop(0);
    executor.shutdownNow();
    records.close();
  }
}
