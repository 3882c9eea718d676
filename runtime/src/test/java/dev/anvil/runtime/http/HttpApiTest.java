package dev.anvil.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.journal.JournalRows;
import dev.anvil.runtime.node.AnvilNode;
import dev.anvil.runtime.node.SingleNode;
import dev.anvil.testsupport.HostileSpecs;
import dev.anvil.testsupport.TestJobs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API of a real node (one-node cluster, embedded PostgreSQL): a job submitted, followed
 * and finished with the reference bits; hostile and malformed requests each answered with a 4xx and
 * a message (never a stack trace), the node still serving afterwards; a node bound off loopback
 * refuses to start without a token and refuses mutating calls without it.
 */
class HttpApiTest {
  static final String TOKEN = "http-api-test-token-" + Long.toHexString(System.nanoTime());
  static final String JOB =
      """
      {"job": {"name": "http-job", "seed": 5,
        "model": {"type": "mlp", "layers": [8, 16, 3]},
        "data": {"type": "synthetic", "samples": 1200, "features": 8, "classes": 3, "seed": 2},
        "optimizer": {"type": "sgd", "learning-rate": 0.05},
        "batch-size": 60, "logical-shards": 6, "rounds": 300, "kernel": "java"}}
      """;

  @TempDir static Path dir;
  static SingleNode anvil;
  static AnvilNode node;

  /** The node's API, http://127.0.0.1:PORT. */
  static String url;

  static final HttpClient client = HttpClient.newHttpClient();
  static final ObjectMapper json = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    Path data = HostileSpecs.prepare(dir);
    anvil =
        SingleNode.start(
            dir,
            Map.of(
                "anvil.worker.slots",
                2,
                "anvil.http.token",
                TOKEN,
                "anvil.data.allowed-roots",
                List.of(data.toString())));
    node = anvil.node();
    url = node.httpUrl().orElseThrow();
  }

  @AfterAll
  static void stop() {
    if (anvil != null) {
      anvil.close();
    }
  }

  record Reply(int status, JsonNode body) {}

  static Reply send(String method, String path, String body, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url + path))
            .timeout(Duration.ofSeconds(60))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), json.readTree(r.body()));
  }

  /** Job {@code id}'s status once it is finished, within two minutes. */
  static Reply finished(String id) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    Reply status = send("GET", "/api/jobs/" + id, null, null);
    while (!status.body().path("state").asText().equals("finished")
        && System.nanoTime() < deadline) {
      assertEquals(200, status.status(), status.body()::toString);
      Thread.sleep(200); // polling the API, as a client would
      status = send("GET", "/api/jobs/" + id, null, null);
    }
    assertEquals("finished", status.body().path("state").asText(), status.body()::toString);
    return status;
  }

  @Test
  void aJobSubmittedOverHttpFinishesWithTheReferenceBits() throws Exception {
    Reply submitted = send("POST", "/api/jobs?id=http-job&workers=2", JOB, TOKEN);
    assertEquals(202, submitted.status(), submitted.body()::toString);
    assertEquals("http-job", submitted.body().get("jobId").asText());
    Reply status = finished("http-job");
    String reference = TestJobs.referenceHash(JobSpecParser.parse(JOB, "ref", null));
    assertEquals(reference, status.body().path("result").path("paramsSha256").asText());
    assertEquals(300, status.body().path("lastRound").asLong());
    assertTrue(status.body().path("recentRounds").size() > 0);
    Reply list = send("GET", "/api/jobs", null, null);
    assertTrue(list.body().path("jobs").toString().contains("\"http-job\""), list.body()::toString);
    Reply again = send("POST", "/api/jobs?id=http-job", JOB, TOKEN);
    assertEquals(409, again.status());

    Reply dashboard = send("GET", "/api/dashboard", null, null);
    assertEquals(200, dashboard.status());
    JsonNode self = dashboard.body().path("nodes").get(0);
    assertEquals("up", self.path("status").asText(), dashboard.body()::toString);
    assertEquals(2, self.path("workers").asInt(), dashboard.body()::toString);
    assertEquals("http-job", dashboard.body().path("jobs").get(0).path("jobId").asText());
    assertEquals(300, dashboard.body().path("jobs").get(0).path("rounds").size());
    HttpResponse<String> page =
        client.send(
            HttpRequest.newBuilder(URI.create(url + "/")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertTrue(page.body().contains("new EventSource(\"/api/events\")"), page.body());
    HttpResponse<java.util.stream.Stream<String>> events =
        client.send(
            HttpRequest.newBuilder(URI.create(url + "/api/events")).build(),
            HttpResponse.BodyHandlers.ofLines());
    assertEquals(
        "text/event-stream; charset=utf-8", events.headers().firstValue("Content-Type").orElse(""));
    try (var lines = events.body()) {
      String first = lines.filter(l -> !l.isEmpty()).findFirst().orElse("");
      assertTrue(first.startsWith("data: {") && first.contains("\"http-job\""), first);
    }

    HttpResponse<String> metrics =
        client.send(
            HttpRequest.newBuilder(URI.create(url + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, metrics.statusCode());
    String text = metrics.body();
    assertTrue(text.contains("anvil_rounds_committed_total 300.0"), text);
    assertTrue(text.contains("anvil_round_time_seconds_count 300"), text);
    assertTrue(text.contains("anvil_round_time_seconds_bucket"), text);
    for (String name :
        List.of(
            "anvil_redispatched_tree_nodes_total",
            "anvil_late_results_total",
            "anvil_rejected_results_total",
            "anvil_node_failures_total",
            "anvil_checkpoint_write_time_seconds_bucket",
            "anvil_checkpoint_size_bytes",
            "anvil_checkpoints_committed_total",
            "anvil_checkpoint_write_failures_total",
            "anvil_journal_errors_total")) {
      assertTrue(text.contains(name), name + " missing from /metrics:\n" + text);
    }
  }

  @Test
  void hostileAndMalformedRequestsGet4xxWithAMessage() throws Exception {
    String huge = "{\"job\": {\"name\": \"" + "x".repeat(200_000) + "\"}}";
    List<Object[]> cases =
        List.of(
            new Object[] {
              "POST", "/api/jobs", "{\"job\": {\"name\": ", TOKEN, 400, "not valid HOCON"
            },
            new Object[] {"POST", "/api/jobs", huge, TOKEN, 413, "max-body-bytes"},
            new Object[] {
              "POST",
              "/api/jobs",
              JOB.replace("\"seed\": 5,", "\"seed\": 5, \"colour\": \"red\","),
              TOKEN,
              400,
              "colour"
            },
            new Object[] {
              "POST",
              "/api/jobs?workers=-3",
              JOB,
              TOKEN,
              400,
              "workers: must be a whole number from 1 to 10000"
            },
            new Object[] {
              "POST", "/api/jobs", JOB.replace("0.05", "-0.05"), TOKEN, 400, "learning-rate"
            },
            new Object[] {"GET", "/api/jobs/..%2F..%2Fetc%2Fpasswd", null, null, 400, "job id"},
            new Object[] {"POST", "/api/jobs", JOB, null, 401, "Bearer"},
            new Object[] {"POST", "/api/jobs/any/pause", null, "wrong", 401, "Bearer"},
            new Object[] {"GET", "/api/jobs/no-such-job", null, null, 404, "no job no-such-job"},
            new Object[] {"DELETE", "/api/jobs", null, TOKEN, 405, "not allowed"},
            new Object[] {"GET", "/api/jobs/%2e%2e", null, null, 400, "job id: must be"},
            new Object[] {"POST", "/api/jobs?colour=red", JOB, TOKEN, 400, "unknown parameter"},
            new Object[] {"GET", "/etc/passwd", null, null, 404, "no such resource"});
    for (Object[] c : cases) {
      Reply r = send((String) c[0], (String) c[1], (String) c[2], (String) c[3]);
      String what = c[0] + " " + c[1] + " -> " + r.status() + " " + r.body();
      assertEquals((int) c[4], r.status(), what);
      String error = r.body().path("error").asText();
      assertTrue(error.contains((String) c[5]), what);
      assertFalse(error.contains("\tat ") || error.contains("Exception"), what);
      assertFalse(error.contains("passwd"), "the request is quoted: " + what);
    }
    assertEquals(200, send("GET", "/api/cluster", null, null).status());
  }

  /**
   * Two short jobs run; the journal's newest events of every job read in one query are the ones a
   * query per job reads, and GET /api/jobs (that one query) agrees with each job's own status.
   */
  @Test
  void theJobListReadsInOneQueryWhatAQueryPerJobReads() throws Exception {
    for (String id : List.of("list-job-a", "list-job-b")) {
      Reply r =
          send(
              "POST",
              "/api/jobs?id=" + id + "&workers=1",
              JOB.replace("\"rounds\": 300", "\"rounds\": 20"),
              TOKEN);
      assertEquals(202, r.status(), r.body()::toString);
    }
    finished("list-job-a");
    finished("list-job-b");
    var db = dev.anvil.persistence.DatabaseSettings.from(node.system().settings().config());
    try (var pool = JournalRows.pool(db, "test", 1)) {
      Map<String, List<JournalRows.Row>> all =
          JournalRows.newestOfJobs(node.system(), pool, 200, 7);
      assertTrue(all.keySet().containsAll(List.of("list-job-a", "list-job-b")), all::toString);
      assertEquals(all.keySet().stream().sorted().toList(), List.copyOf(all.keySet()));
      for (var job : all.entrySet()) {
        assertEquals(
            JournalRows.newest(node.system(), pool, job.getKey(), 7).stream()
                .map(JournalRows.Row::sequence)
                .toList(),
            job.getValue().stream().map(JournalRows.Row::sequence).toList(),
            job.getKey());
      }
      assertEquals(
          List.copyOf(all.keySet()).subList(0, 1),
          List.copyOf(JournalRows.newestOfJobs(node.system(), pool, 1, 7).keySet()));
    }
    for (JsonNode listed : send("GET", "/api/jobs", null, null).body().path("jobs")) {
      JsonNode own = send("GET", "/api/jobs/" + listed.path("jobId").asText(), null, null).body();
      assertEquals(own.path("state"), listed.path("state"), own::toString);
      assertEquals(own.path("lastRound"), listed.path("lastRound"), own::toString);
    }
  }

  @Test
  void hostileSpecsGet4xxWithinASecondAndLeakNothing() throws Exception {
    for (var hostile : HostileSpecs.all(dir).entrySet()) {
      long start = System.nanoTime();
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(URI.create(url + "/api/jobs"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .header("Content-Type", "application/hocon")
                  .POST(HttpRequest.BodyPublishers.ofString(hostile.getValue()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      long millis = (System.nanoTime() - start) / 1_000_000;
      String what = hostile.getKey() + " -> " + r.statusCode() + " " + r.body();
      assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, what);
      assertTrue(millis < 1000, what + " after " + millis + " ms");
      HostileSpecs.assertClean(r.body());
    }
    for (String probe : List.of("/health/alive", "/health/ready")) {
      assertEquals(
          200,
          client
              .send(
                  HttpRequest.newBuilder(URI.create(url + probe)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode(),
          probe);
    }
    assertEquals(200, send("GET", "/api/cluster", null, null).status());
  }

  @Test
  void probesAnswer() throws Exception {
    for (String probe : List.of("/health/alive", "/health/ready")) {
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(URI.create(url + probe)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), probe + ": " + r.body());
      assertEquals("ok", r.body());
    }
  }

  @Test
  void offLoopbackEveryRequestButTheProbesNeedsTheToken() throws Exception {
    // Bound to every address and reached through 127.0.0.1: off loopback all the same, and no
    // traffic leaves loopback.
    Path tokenFile = dir.resolve("off-loopback/http-token");
    HttpSettings settings =
        HttpSettings.from(
            ConfigFactory.parseMap(
                    Map.of(
                        "anvil.http.host",
                        "0.0.0.0",
                        "anvil.http.token-file",
                        tokenFile.toString()))
                .withFallback(ConfigFactory.defaultReference()));
    assertEquals(
        "rw-------",
        java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(tokenFile)));
    String generated = Files.readString(tokenFile).trim();
    assertEquals(generated, settings.token());
    assertTrue(generated.length() >= 40, "a 32-byte random token: " + generated.length());
    try (HttpApi api =
        HttpApi.start(
            node.system(),
            settings,
            dev.anvil.persistence.DatabaseSettings.from(node.system().settings().config()),
            () -> 1,
            () -> "")) {
      String base = "http://127.0.0.1:" + api.port();
      for (String path : List.of("/api/cluster", "/api/jobs", "/metrics", "/api/events")) {
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(URI.create(base + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode(), path + ": " + r.body());
        assertFalse(r.body().contains(generated), r.body());
      }
      HttpResponse<String> post =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(JOB))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(401, post.statusCode(), post.body());
      HttpResponse<String> get =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/api/cluster"))
                  .header("Authorization", "Bearer " + generated)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, get.statusCode(), get.body());
      HttpResponse<String> alive =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/health/alive")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, alive.statusCode(), alive.body());
    }
  }

  /**
   * Forty clients that never finish their request hold every thread of the API (each waits up to
   * the 10 s a request may take); the probes' own port still answers at once.
   */
  @Test
  void slowClientsCannotStarveTheProbes() throws Exception {
    HttpSettings settings =
        HttpSettings.from(
            ConfigFactory.parseMap(Map.of("anvil.http.token", TOKEN, "anvil.http.probe-port", 0))
                .withFallback(ConfigFactory.defaultReference()));
    List<java.net.Socket> slow = new java.util.ArrayList<>();
    try (HttpApi api =
        HttpApi.start(
            node.system(),
            settings,
            dev.anvil.persistence.DatabaseSettings.from(node.system().settings().config()),
            () -> 1,
            () -> "")) {
      for (int i = 0; i < 40; i++) {
        java.net.Socket s = new java.net.Socket("127.0.0.1", api.port());
        s.getOutputStream()
            .write(
                "GET /api/cluster HTTP/1.1\r\nHost: 127"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        slow.add(s);
      }
      assertThrows(
          java.net.http.HttpTimeoutException.class,
          () ->
              client.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + api.port() + "/health/alive"))
                      .timeout(Duration.ofSeconds(2))
                      .build(),
                  HttpResponse.BodyHandlers.ofString()),
          "the slow clients did not hold the API's threads: this test shows nothing");
      long start = System.nanoTime();
      HttpResponse<String> alive =
          client.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + api.probePort() + "/health/alive"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(200, alive.statusCode(), alive.body());
      assertTrue(millis < 1000, "the probe took " + millis + " ms");
    } finally {
      for (java.net.Socket s : slow) {
        s.close();
      }
    }
  }

  /** HTTPS with the node's certificate: a client trusting the cluster's CA gets answers. */
  @Test
  void theApiSpeaksHttpsWithTheNodesCertificate() throws Exception {
    Path tls = dir.resolve("https-node");
    dev.anvil.runtime.tls.ClusterCa.create("https test", Duration.ofDays(1))
        .issue("node", List.of("127.0.0.1"), List.of(), Duration.ofDays(1))
        .save(tls);
    HttpSettings settings =
        HttpSettings.from(
            ConfigFactory.parseMap(
                    Map.of(
                        "anvil.http.token",
                        TOKEN,
                        "anvil.http.https",
                        true,
                        "anvil.tls.directory",
                        tls.toString()))
                .withFallback(ConfigFactory.defaultReference()));
    try (HttpApi api =
        HttpApi.start(
            node.system(),
            settings,
            dev.anvil.persistence.DatabaseSettings.from(node.system().settings().config()),
            () -> 1,
            () -> "")) {
      assertTrue(api.url().startsWith("https://127.0.0.1:"), api.url());
      HttpClient trusting =
          HttpClient.newBuilder()
              .sslContext(dev.anvil.runtime.tls.TlsFiles.sslContext(tls))
              .build();
      HttpResponse<String> r =
          trusting.send(
              HttpRequest.newBuilder(URI.create(api.url() + "/api/cluster")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      assertThrows(
          java.io.IOException.class,
          () ->
              client.send(
                  HttpRequest.newBuilder(URI.create(api.url() + "/api/cluster"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  HttpResponse.BodyHandlers.ofString()),
          "a client without the CA must not connect");
      assertThrows(
          java.io.IOException.class,
          () ->
              client.send(
                  HttpRequest.newBuilder(
                          URI.create(api.url().replace("https", "http") + "/api/cluster"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  HttpResponse.BodyHandlers.ofString()),
          "plain HTTP is not served");
    }
    IllegalArgumentException noCert =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                HttpSettings.from(
                    ConfigFactory.parseMap(
                            Map.of("anvil.http.token", TOKEN, "anvil.http.https", true))
                        .withFallback(ConfigFactory.defaultReference())));
    assertTrue(noCert.getMessage().contains("needs anvil.tls.directory"), noCert::getMessage);
  }

  @Test
  void tokensMustBeSecretsAndTheirFileTheOwnersAlone() throws Exception {
    for (String weak : List.of("short", "change-me", "changemechangeme", "CHANGE-ME-CHANGE-ME")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  HttpSettings.from(
                      ConfigFactory.parseMap(Map.of("anvil.http.token", weak))
                          .withFallback(ConfigFactory.defaultReference())));
      assertTrue(e.getMessage().startsWith("anvil.http.token is "), e::getMessage);
      assertFalse(e.getMessage().contains(weak), e::getMessage);
    }
    Path shared = dir.resolve("shared/http-token");
    String first = ApiToken.fromFile(shared);
    assertEquals(first, ApiToken.fromFile(shared), "a second node takes the same token");
    Files.setPosixFilePermissions(
        shared, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    IllegalArgumentException open =
        assertThrows(IllegalArgumentException.class, () -> ApiToken.fromFile(shared));
    assertTrue(open.getMessage().contains("chmod 600"), open::getMessage);
  }

  /** A raw request, so that Host can be anything (the JDK client sets it itself). */
  static String raw(String request) throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", java.net.URI.create(url).getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  @Test
  void browserAttacksAreRefused() throws Exception {
    String body = JOB.replace("http-job", "csrf-job");
    HttpResponse<String> foreignOrigin =
        client.send(
            HttpRequest.newBuilder(URI.create(url + "/api/jobs?id=csrf-job"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/json")
                .header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, foreignOrigin.statusCode(), foreignOrigin.body());
    HttpResponse<String> nullOrigin =
        client.send(
            HttpRequest.newBuilder(URI.create(url + "/api/jobs")).header("Origin", "null").build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, nullOrigin.statusCode(), nullOrigin.body());
    for (String type :
        List.of(
            "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x")) {
      HttpResponse<String> simple =
          client.send(
              HttpRequest.newBuilder(URI.create(url + "/api/jobs?id=csrf-job"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .header("Content-Type", type)
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(415, simple.statusCode(), type + ": " + simple.body());
    }
    String rebound =
        raw("GET /api/jobs HTTP/1.1\r\nHost: evil.example:8080\r\n" + "Connection: close\r\n\r\n");
    assertTrue(rebound.startsWith("HTTP/1.1 403"), rebound);
    String foreignPost =
        raw(
            "POST /api/jobs?id=csrf-job HTTP/1.1\r\nHost: evil.example\r\n"
                + "Authorization: Bearer "
                + TOKEN
                + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + "\r\nConnection: close\r\n\r\n"
                + body);
    assertTrue(foreignPost.startsWith("HTTP/1.1 403"), foreignPost);
    String own =
        raw(
            "GET /api/jobs HTTP/1.1\r\nHost: localhost\r\nOrigin: "
                + url
                + "\r\nConnection: close\r\n\r\n");
    assertTrue(own.startsWith("HTTP/1.1 200"), own);
    assertEquals(
        404,
        send("GET", "/api/jobs/csrf-job", null, null).status(),
        "a refused request started a job");
  }
}
