package dev.anvil.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.anvil.coordinator.JobProtocol;
import dev.anvil.core.data.DataException;
import dev.anvil.core.data.DataLoader;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.JobClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
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
 * trace. Mutating requests need {@code Authorization: Bearer TOKEN} once a token is set.
 */
public final class HttpApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  private static final Pattern JOB_PATH = Pattern.compile("/api/jobs/([^/]+)(?:/([a-z]+))?");
  private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(30);
  /** Recent rounds in a job's status. */
  private static final int STATUS_ROUNDS = 50;
  /** Most bytes of an oversized body read (and dropped) before answering 413. */
  private static final long DRAIN_LIMIT = 16L << 20;
  /** Threads for requests besides the dashboards' streams. */
  private static final int THREADS = 16;

  private final HttpServer server;
  private final ExecutorService executor;
  private final ActorSystem<?> system;
  private final HttpSettings settings;
  private final SpecRules specRules;
  private final RequestGuard guard;
  /** The probes' own server (anvil.http.probe-port), or null. */
  private HttpServer probes;
  private final JobRecords records;
  private final IntSupplier workers;
  private final java.util.function.Supplier<String> metrics;
  private final ObjectMapper json = new ObjectMapper();
  private final DashboardFeed feed;
  private final Pages.EventStream stream;
  /** Jobs submitted through this API whose first event may not be in the journal yet. */
  private final java.util.Set<String> submitted = java.util.concurrent.ConcurrentHashMap
      .newKeySet();

  /** An error answered with its status code. */
  private static final class HttpError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;

    HttpError(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private HttpApi(HttpServer server, ExecutorService executor, ActorSystem<?> system,
      HttpSettings settings, DatabaseSettings db, IntSupplier workers,
      java.util.function.Supplier<String> metrics) {
    this.metrics = metrics;
    this.server = server;
    this.executor = executor;
    this.system = system;
    this.settings = settings;
    this.specRules = SpecRules.from(system.settings().config());
    this.guard = new RequestGuard(settings);
    this.records = new JobRecords(system, db);
    this.feed = new DashboardFeed(system, records);
    this.stream = new Pages.EventStream(feed, json);
    this.workers = workers;
  }

  /**
   * Starts the API of the node running {@code system}; {@code workers} counts the cluster's
   * workers (a submission's default); {@code metrics} renders /metrics (Prometheus text).
   */
  public static HttpApi start(ActorSystem<?> system, HttpSettings settings,
      DatabaseSettings db, IntSupplier workers, java.util.function.Supplier<String> metrics) {
    // The JDK server reads these once, when it is first used; a JVM that set them keeps its own.
    // A client has 10 s to send its request (headers and body): slow ones cannot hold threads.
    System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", "10");
    System.getProperties().putIfAbsent("sun.net.httpserver.maxReqHeaders", "64");
    HttpServer server;
    try {
      InetSocketAddress at = new InetSocketAddress(settings.host(), settings.port());
      if (settings.httpsFolder() != null) {
        javax.net.ssl.SSLContext tls = dev.anvil.runtime.tls.TlsFiles.sslContext(
            settings.httpsFolder());
        com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(
            at, 50);
        https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
        server = https;
      } else {
        server = HttpServer.create(at, 50);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot serve the HTTP API on " + settings.host() + ":"
          + settings.port() + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newFixedThreadPool(Pages.EventStream.MAX + THREADS,
        HttpApi::daemon);
    HttpApi api = new HttpApi(server, executor, system, settings, db, workers, metrics);
    server.setExecutor(executor);
    server.createContext("/", api::handle);
    if (settings.probePort() >= 0) {
      try {
        api.probes = HttpServer.create(new InetSocketAddress(settings.host(),
            settings.probePort()), 8);
      } catch (IOException e) {
        throw new IllegalStateException("cannot serve the health probes on " + settings.host()
            + ":" + settings.probePort() + ": " + e.getMessage(), e);
      }
      api.probes.setExecutor(Executors.newFixedThreadPool(2, HttpApi::daemon));
      api.probes.createContext("/", x -> api.probe(x, x.getRequestURI().getRawPath()));
      api.probes.start();
    }
    server.start();
    log.info("HTTP API on {}", api.url());
    return api;
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "anvil-http");
    t.setDaemon(true);
    return t;
  }

  /** The API's base URL, http://host:port. */
  public String url() {
    return (settings.httpsFolder() != null ? "https://" : "http://") + settings.host() + ":"
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
      switch (path) {
        case "/metrics" -> {
          Pages.send(exchange, "text/plain; version=0.0.4; charset=utf-8", metrics.get());
          return;
        }
        case "/", "/dashboard" -> {
          Pages.send(exchange, "text/html; charset=utf-8", Pages.dashboard());
          return;
        }
        case "/api/events" -> {
          stream.serve(exchange);
          return;
        }
        case "/health/alive", "/health/ready" -> {
          probe(exchange, path);
          return;
        }
        default -> { }
      }
    }
    int status;
    Object body;
    try {
      body = route(exchange);
      status = exchange.getRequestMethod().equals("POST") ? 202 : 200;
      if (body instanceof Answer a) {
        status = a.status();
        body = a.body();
      }
    } catch (HttpError e) {
      status = e.status;
      body = Map.of("error", e.getMessage());
    } catch (RuntimeException | SQLException | IOException e) {
      log.warn("HTTP {} {} failed: {}", exchange.getRequestMethod(),
          exchange.getRequestURI().getRawPath(), e.toString());
      status = 500;
      body = Map.of("error", "the node could not answer (its log says why)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      status = 503;
      body = Map.of("error", "the node is stopping");
    }
    answer(exchange, status, body);
  }

  /** Reads and drops a refused request's body (up to the limit), so the client hears why. */
  private void drain(HttpExchange x) {
    try {
      read(x, 0, new ByteArrayOutputStream());
    } catch (IOException e) {
      // The answer may still get through.
    }
  }

  /**
   * Reads the request body up to {@link #DRAIN_LIMIT} bytes, keeping the first {@code keep} in
   * {@code out}; returns how many it read.
   */
  private static long read(HttpExchange x, long keep, ByteArrayOutputStream out)
      throws IOException {
    byte[] buffer = new byte[8192];
    long seen = 0;
    try (InputStream in = x.getRequestBody()) {
      int n;
      while ((n = in.read(buffer)) > 0 && seen <= DRAIN_LIMIT) {
        seen += n;
        if (seen <= keep) {
          out.write(buffer, 0, n);
        }
      }
    }
    return seen;
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
      Pages.health(exchange, self.status() == org.apache.pekko.cluster.MemberStatus.up(),
          "this node is " + self.status() + " in the cluster, not Up");
    } else {
      answer(exchange, 404, Map.of("error", "this port serves /health/alive and /health/ready"));
    }
  }

  /** A body with a status other than the method's default. */
  private record Answer(int status, Object body) {}

  private Object route(HttpExchange x) throws IOException, SQLException,
      InterruptedException {
    String method = x.getRequestMethod();
    String path = x.getRequestURI().getRawPath();
    if (path.equals("/api/cluster")) {
      allow(method, "GET");
      return cluster();
    }
    if (path.equals("/api/dashboard")) {
      allow(method, "GET");
      return feed.snapshot();
    }
    if (path.equals("/api/jobs")) {
      if (method.equals("GET")) {
        return jobs();
      }
      allow(method, "POST");
      authorize(x);
      return submit(x);
    }
    Matcher m = JOB_PATH.matcher(path);
    if (m.matches()) {
      String id = jobId(m.group(1));
      if (m.group(2) == null) {
        allow(method, "GET");
        return status(id);
      }
      allow(method, "POST");
      authorize(x);
      return control(id, m.group(2), x);
    }
    throw new HttpError(404, "no such resource: " + path + " (see GET /api/jobs,"
        + " GET /api/cluster)");
  }

  private static void allow(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new HttpError(405, "method " + method + " not allowed here; use " + allowed);
    }
  }

  /** Mutating requests carry the bearer token. */
  private void authorize(HttpExchange x) {
    if (!guard.authorized(x)) {
      throw new HttpError(401, RequestGuard.NEEDS_TOKEN);
    }
  }

  private static String jobId(String raw) {
    String id = decode(raw);
    if (!JOB_ID.matcher(id).matches()) {
      throw new HttpError(400, "job id \"" + shorten(id) + "\": must be 1 to 100 letters,"
          + " digits, '.', '_' or '-', starting with a letter or digit");
    }
    return id;
  }

  private Object cluster() throws SQLException {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    List<Map<String, Object>> members = new ArrayList<>();
    for (Member m : StreamSupport.stream(state.getMembers().spliterator(), false).toList()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("address", m.address().hostPort());
      e.put("uid", m.uniqueAddress().longUid());
      e.put("status", m.status().toString());
      e.put("roles", new java.util.TreeSet<>(m.getRoles()));
      e.put("reachable", !state.getUnreachable().contains(m));
      members.add(e);
    }
    Placements.annotate(members, Placements.ask(system, records.overview().stream()
        .filter(s -> Placements.running(s.state())).map(JobRecords.Status::jobId).toList()));
    return Map.of("self", cluster.selfMember().address().hostPort(), "members", members);
  }

  private Object jobs() throws SQLException {
    List<Object> out = new ArrayList<>();
    for (JobRecords.Status s : records.overview()) {
      out.add(Map.of("jobId", s.jobId(), "state", s.state(), "lastRound", s.lastRound()));
    }
    return Map.of("jobs", out);
  }

  private Object status(String id) throws SQLException, IOException {
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
    return m;
  }

  private Object submit(HttpExchange x) throws IOException, SQLException {
    Map<String, String> query = query(x);
    String text = body(x);
    if (text.isBlank()) {
      throw new HttpError(400, "the body must be a job spec (HOCON or JSON), e.g."
          + " {\"job\": {...}}");
    }
    JobSpec spec;
    try {
      spec = JobSpecParser.parseUntrusted(text, "the request body", specRules);
      DataLoader.probe(spec.data());
    } catch (JobSpecException | DataException e) {
      throw new HttpError(400, e.getMessage().strip());
    }
    int count = query.containsKey("workers") ? positive("workers", query.get("workers"))
        : workers.getAsInt();
    String id = query.containsKey("id") ? jobId(query.get("id"))
        : spec.name().replaceAll("[^A-Za-z0-9._-]", "-") + "-" + System.currentTimeMillis();
    if (records.exists(id) || !submitted.add(id)) {
      throw new HttpError(409, "job " + id + " exists; GET /api/jobs/" + id + " shows it");
    }
    JobClient.submit(system, id, spec, count, u -> { })
        .whenComplete((outcome, error) -> submitted.remove(id));
    return new Answer(202, Map.of("jobId", id, "workers", count, "status", "/api/jobs/" + id));
  }

  private Object control(String id, String action, HttpExchange x) throws SQLException,
      InterruptedException {
    if (!submitted.contains(id) && !records.exists(id)) {
      throw new HttpError(404, "no job " + id);
    }
    var update = switch (action) {
      case "pause" -> JobClient.pause(system, id);
      case "resume" -> JobClient.resume(system, id);
      case "cancel" -> JobClient.cancel(system, id, query(x).getOrDefault("reason",
          "cancelled through the HTTP API"));
      default -> throw new HttpError(404, "no action " + action + " (pause, resume, cancel)");
    };
    try {
      JobProtocol.JobUpdate u = update.toCompletableFuture()
          .get(CONTROL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (u instanceof JobProtocol.Rejected r) {
        throw new HttpError(409, r.reason());
      }
      return new Answer(200, Map.of("jobId", id, "done", action, "update",
          u.getClass().getSimpleName()));
    } catch (java.util.concurrent.ExecutionException e) {
      throw new HttpError(409, "job " + id + ": " + e.getCause().getMessage());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new HttpError(504, "job " + id + " did not answer " + action + " within "
          + CONTROL_TIMEOUT.toSeconds() + " s");
    }
  }

  private static int positive(String name, String value) {
    try {
      int n = Integer.parseInt(value);
      if (n >= 1 && n <= 10_000) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new HttpError(400, name + " = " + shorten(value) + ": must be a whole number from 1"
        + " to 10000");
  }

  /**
   * The request body as UTF-8, refused past the limit (413) whatever Content-Length says. An
   * oversized body is read and dropped (up to {@link #DRAIN_LIMIT}) before the answer, so that
   * the client hears the 413 instead of a reset connection.
   */
  private String body(HttpExchange x) throws IOException {
    String declared = x.getRequestHeaders().getFirst("Content-Length");
    if (declared != null) {
      try {
        Long.parseLong(declared.trim());
      } catch (NumberFormatException e) {
        throw new HttpError(400, "Content-Length = " + shorten(declared) + ": not a number");
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (read(x, settings.maxBodyBytes(), out) > settings.maxBodyBytes()) {
      throw tooLarge();
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private HttpError tooLarge() {
    return new HttpError(413, "the body is larger than anvil.http.max-body-bytes = "
        + settings.maxBodyBytes());
  }

  private static Map<String, String> query(HttpExchange x) {
    Map<String, String> out = new LinkedHashMap<>();
    String raw = x.getRequestURI().getRawQuery();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      if (!key.equals("id") && !key.equals("workers") && !key.equals("reason")) {
        throw new HttpError(400, "unknown parameter " + shorten(key) + " (id, workers,"
            + " reason)");
      }
      out.put(key, eq < 0 ? "" : decode(pair.substring(eq + 1)));
    }
    return out;
  }

  private static String decode(String raw) {
    try {
      return URLDecoder.decode(raw, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, "malformed URL encoding in \"" + shorten(raw) + "\"");
    }
  }

  private static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "..." : s;
  }

  @Override
  public void close() {
    stream.close();
    if (probes != null) {
      probes.stop(0);
      ((ExecutorService) probes.getExecutor()).shutdownNow();
    }
    server.stop(0);
    executor.shutdownNow();
    records.close();
  }
}
