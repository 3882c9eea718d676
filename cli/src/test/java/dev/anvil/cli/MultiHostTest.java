package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.cli.MainTest.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/multi-host.md on three hosts: network namespaces with 10.77.0.1-3 on one bridge ({@link
 * NetworkNamespaces}); {@code anvil certs} makes the CA and a certificate per node and for the
 * client; each host runs {@code anvil node --tls} (host 1 hosts the journal's PostgreSQL with
 * {@code --host-db}, hosts 2 and 3 connect to the URL it prints), and a client on host 2 runs
 * {@code anvil train --cluster ... --tls client-tls --workers 3}, advertising the address that
 * routes to the nodes (no {@code --host}); {@code anvil status} on host 1 shows the coordinator's
 * node and one worker on each host. Each node has one worker slot, so the job's third worker can
 * only be host 3's.
 *
 * <p>Once the job trains on 3 workers, host 3's node JVM is killed with SIGKILL and started again
 * with the same command. After that the job must complete, its {@code paramsSha256} must be the
 * single-process reference's ({@code anvil train --local}), and host 3's new incarnation must be
 * back in it: a {@code node-rejoined} recovery naming 10.77.0.3:25520, and 3 workers at the end;
 * {@code anvil status} shows host 3's worker again, on its new incarnation (a new uid). Then {@code
 * anvil checkpoint export} from host 2 with {@code --host ADDRESS:PORT}.
 *
 * <p>Tag {@code multihost} ({@code -Pfull}): it needs root and iproute2. Where network namespaces
 * cannot be made it is skipped with the reason, or fails with it when {@code
 * -Danvil.test.require-netns=true} ({@code .ci/run}).
 */
@Tag("multihost")
class MultiHostTest {
  static final int HOSTS = 3;
  static final int CLIENT_HOST = 2;
  static final int KILLED_HOST = 3;
  static final String PORT = "25520";

  /** The example job, longer (kernel java: the same bits on every host and in the reference). */
  static final int EPOCHS = 25;

  static final Pattern NODE_UP = Pattern.compile("anvil node up at ");
  static final Pattern DB_URL = Pattern.compile("other nodes with --db (\\S+) --db-user anvil");
  static final Pattern TRAINING = Pattern.compile("rounds on 3 workers \\(3 nodes\\)");
  static final Pattern COORDINATOR =
      Pattern.compile("job \\S+: coordinator epoch \\d+ on (\\S+)$", Pattern.MULTILINE);
  static final Duration START = Duration.ofSeconds(120);
  static final String JOB_ID = "multi-host";
  static final Pattern WORKERS_LINE = Pattern.compile("\\n  workers: ([^\\n]*)");
  static final Pattern NODE_WORKERS = Pattern.compile("(\\S+) \\(uid (-?\\d+)\\) x1");
  static final List<String> NODE_JAVA_OPTIONS =
      List.of("-Xmx512m", "-Danvil.log.level=INFO", "-Danvil.pekko.log.level=INFO");

  @TempDir static Path dir;

  static NetworkNamespaces net;
  static final List<AnvilProcess> processes = new ArrayList<>();
  static final Map<String, String> DB_PASSWORD =
      Map.of("ANVIL_DB_PASSWORD", "multi-host-" + Long.toHexString(System.nanoTime()));

  /** Why this machine cannot make the hosts; null when it made them. */
  static String unavailable;

  @BeforeAll
  static void hosts() {
    try {
      net = NetworkNamespaces.create(HOSTS);
    } catch (NetworkNamespaces.Unavailable e) {
      unavailable = "the multi-host test needs network namespaces: " + e.getMessage();
    }
  }

  /** Skips the test where the hosts could not be made, or fails it if they are required. */
  static void assumeHosts() {
    if (unavailable != null && Boolean.getBoolean("anvil.test.require-netns")) {
      fail(unavailable + " (required: anvil.test.require-netns=true)");
    }
    Assumptions.assumeTrue(unavailable == null, () -> unavailable);
  }

  @AfterAll
  static void cleanUp() {
    AnvilProcess.stopAll(processes, Duration.ofSeconds(20));
    if (net != null) {
      net.close();
    }
  }

  @Test
  void aNodeKilledOnItsHostRejoinsAndTheResultIsTheReference() throws Exception {
    assumeHosts();
    long started = System.nanoTime();
    Path job = writeJob(host(CLIENT_HOST).resolve("job.conf"));
    Outcome ref =
        MainTest.anvil(
            "train",
            "--local",
            "--job",
            job.toString(),
            "--out",
            dir.resolve("ref.json").toString());
    assertEquals(0, ref.code(), ref.err());
    String reference =
        new ObjectMapper().readTree(dir.resolve("ref.json").toFile()).get("paramsSha256").asText();
    makeCertificates();

    AnvilProcess first = startNode(1, "node-1", List.of("--host-db", "journal-db"));
    first.awaitLine(NODE_UP, START, MultiHostTest::failure);
    String dbUrl = first.awaitLine(DB_URL, START, MultiHostTest::failure).group(1);
    List<String> useDb = List.of("--db", dbUrl, "--db-user", "anvil");
    startNode(2, "node-2", useDb);
    AnvilProcess victim = startNode(KILLED_HOST, "node-" + KILLED_HOST, useDb);
    for (int host = 1; host <= HOSTS; host++) {
      first.awaitLine(upInCluster(host), START, MultiHostTest::failure);
    }

    AnvilProcess train = startClient();
    train.awaitLine(TRAINING, START, MultiHostTest::failure);
    Map<String, Long> before = placement(3);
    assertEquals(
        List.of(address(1), address(2), address(3)),
        List.copyOf(before.keySet()),
        failure("workers per node before the kill: " + before));
    String command = victim.process().info().command().orElse("?");
    assertTrue(
        command.endsWith("/java"),
        "`ip netns exec` did not exec java: pid " + victim.process().pid() + " runs " + command);
    long killed = System.nanoTime();
    victim.kill(Duration.ofSeconds(10));
    AnvilProcess restarted = startNode(KILLED_HOST, "node-" + KILLED_HOST + "-restarted", useDb);
    restarted.awaitLine(NODE_UP, START, MultiHostTest::failure);
    train.awaitLine(
        Pattern.compile("node " + Pattern.quote(address(KILLED_HOST)) + " is back" + " in the job"),
        START,
        MultiHostTest::failure);
    long rejoinMillis = (System.nanoTime() - killed) / 1_000_000;
    Map<String, Long> after = placement(3);
    assertEquals(before.keySet(), after.keySet(), failure("workers per node after: " + after));
    assertTrue(
        !after.get(address(KILLED_HOST)).equals(before.get(address(KILLED_HOST))),
        failure(
            "host "
                + KILLED_HOST
                + "'s workers are not its new incarnation's: before "
                + before
                + ", after "
                + after));
    int code = train.awaitExit(Duration.ofSeconds(240), MultiHostTest::failure);
    assertEquals(0, code, failure("anvil train exited " + code));

    JsonNode result =
        new ObjectMapper().readTree(host(CLIENT_HOST).resolve("result.json").toFile());
    assertEquals(reference, result.get("paramsSha256").asText(), failure("not the reference"));
    List<JsonNode> rejoined = new ArrayList<>();
    result
        .get("recoveries")
        .forEach(
            r -> {
              if (r.get("kind").asText().equals("node-rejoined")
                  && r.get("detail").asText().startsWith(address(KILLED_HOST) + " ")) {
                rejoined.add(r);
              }
            });
    assertEquals(
        1,
        rejoined.size(),
        failure(
            "node-rejoined recoveries of "
                + address(KILLED_HOST)
                + ": "
                + result.get("recoveries").toPrettyString()));
    assertEquals(3, result.get("workers").asInt(), failure("workers at the end"));

    // docs/multi-host.md, "Clients on other machines": a checkpoint export from host 2 with the
    // address and port the nodes reach the client at.
    AnvilProcess export =
        launch(
            CLIENT_HOST,
            "anvil checkpoint export",
            List.of("-Xmx256m"),
            List.of(
                "checkpoint",
                "export",
                JOB_ID,
                "multi-host.ckpt",
                "--cluster",
                address(1),
                "--host",
                ip(CLIENT_HOST) + ":25600",
                "--tls",
                "client-tls"));
    assertEquals(
        0,
        export.awaitExit(Duration.ofSeconds(120), MultiHostTest::failure),
        failure("anvil checkpoint export failed"));
    assertTrue(
        Files.size(host(CLIENT_HOST).resolve("multi-host.ckpt")) > 0,
        failure("no checkpoint file"));
    System.out.printf(
        "multi-host: coordinator on %s; %s killed, back %d ms later: %s; job"
            + " %.1f s, paramsSha256 %s (the reference's); %.1f s in all%n",
        coordinator(),
        address(KILLED_HOST),
        rejoinMillis,
        rejoined.get(0).get("detail").asText(),
        result.get("wallSeconds").asDouble(),
        reference,
        (System.nanoTime() - started) / 1e9);
  }

  /** examples/synthetic-mlp.conf with more epochs and the Java kernel. */
  static Path writeJob(Path file) throws Exception {
    String example = Files.readString(MainTest.EXAMPLES.resolve("synthetic-mlp.conf"));
    String job =
        example
            .replace("epochs = 5", "epochs = " + EPOCHS)
            .replace("kernel = auto", "kernel = java");
    assertTrue(job.contains("epochs = " + EPOCHS) && job.contains("kernel = java"), job);
    Files.createDirectories(file.getParent());
    return Files.writeString(file, job);
  }

  /** docs/multi-host.md, "Certificates", each folder then on its host ("copy to its machine"). */
  static void makeCertificates() {
    String ca = dir.resolve("cluster-ca").toString();
    assertOk(MainTest.anvil("certs", "init", "--dir", ca));
    for (int host = 1; host <= HOSTS; host++) {
      assertOk(
          MainTest.anvil(
              "certs",
              "issue",
              "--ca",
              ca,
              "--name",
              "node-" + host,
              "--ip",
              ip(host),
              "--out",
              host(host).resolve("node-" + host + "-tls").toString()));
    }
    assertOk(
        MainTest.anvil(
            "certs",
            "issue",
            "--ca",
            ca,
            "--name",
            "laptop",
            "--out",
            host(CLIENT_HOST).resolve("client-tls").toString()));
  }

  /**
   * docs/multi-host.md, "Starting the nodes": the first host lists itself first, every other host
   * lists the others; one worker slot each.
   */
  static AnvilProcess startNode(int host, String name, List<String> database) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "node",
                "--host",
                ip(host),
                "--port",
                PORT,
                "--seed",
                seeds(host),
                "--tls",
                "node-" + host + "-tls"));
    args.addAll(database);
    args.addAll(List.of("--slots", "1"));
    return launch(host, name, NODE_JAVA_OPTIONS, args);
  }

  /**
   * docs/multi-host.md, "Clients on other machines", from host 2: no {@code --host}, so the client
   * advertises its address that routes to the first node (10.77.0.2).
   */
  static AnvilProcess startClient() throws Exception {
    List<String> args =
        List.of(
            "train",
            "--cluster",
            IntStream.rangeClosed(1, HOSTS)
                .mapToObj(MultiHostTest::address)
                .collect(Collectors.joining(",")),
            "--tls",
            "client-tls",
            "--workers",
            "3",
            "--job",
            "job.conf",
            "--out",
            "result.json",
            "--job-id",
            JOB_ID);
    return launch(CLIENT_HOST, "anvil train", List.of("-Xmx512m"), args);
  }

  /**
   * {@code anvil status JOB} on host 1 (its node's HTTP API on 127.0.0.1:8080 there), until it
   * lists {@code nodes} nodes with workers: node address to the uid of its incarnation, sorted.
   */
  static Map<String, Long> placement(int nodes) throws Exception {
    long deadline = System.nanoTime() + START.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      AnvilProcess status =
          launch(
              1,
              "anvil status",
              List.of("-Xmx128m"),
              List.of("status", JOB_ID, "--cluster", "127.0.0.1:8080"));
      assertEquals(
          0,
          status.awaitExit(Duration.ofSeconds(60), MultiHostTest::failure),
          failure("anvil status failed"));
      last = status.output();
      Matcher workers = WORKERS_LINE.matcher(last);
      if (last.contains("  coordinator: ") && workers.find()) {
        Map<String, Long> out = new java.util.TreeMap<>();
        Matcher each = NODE_WORKERS.matcher(workers.group(1));
        while (each.find()) {
          out.put(each.group(1), Long.parseLong(each.group(2)));
        }
        if (out.size() == nodes) {
          return out;
        }
      }
      Thread.sleep(500); // polling: the placement changes at round boundaries
    }
    throw new AssertionError(
        failure("anvil status never listed " + nodes + " nodes with" + " workers; last:\n" + last));
  }

  static AnvilProcess launch(int host, String name, List<String> javaOptions, List<String> args)
      throws Exception {
    AnvilProcess p =
        AnvilProcess.start(
            name,
            net.exec(host, List.of()),
            javaOptions,
            DB_PASSWORD,
            host(host),
            host(host).resolve(name.replace(' ', '-') + ".log"),
            args);
    processes.add(p);
    return p;
  }

  /** The Pekko leader (host 1, the lowest address) has moved host {@code host}'s node to Up. */
  static Pattern upInCluster(int host) {
    return Pattern.compile(
        "Leader is moving node \\[pekko://anvil@"
            + Pattern.quote(address(host))
            + "\\] to \\[Up\\]");
  }

  /** Seeds of a host: host 1 itself first, then the others; any other host only the others. */
  static String seeds(int host) {
    return IntStream.rangeClosed(1, HOSTS)
        .filter(h -> host == 1 || h != host)
        .mapToObj(MultiHostTest::address)
        .collect(Collectors.joining(","));
  }

  static String ip(int host) {
    return net.address(host);
  }

  static String address(int host) {
    return ip(host) + ":" + PORT;
  }

  /** The folder of a host: its certificates, its node's logs (and on host 2 the client's). */
  static Path host(int host) {
    return dir.resolve("host-" + host);
  }

  /** Where the job's coordinator ran, from the nodes' logs. */
  static String coordinator() {
    return processes.stream()
        .map(p -> COORDINATOR.matcher(p.output()))
        .filter(Matcher::find)
        .map(m -> m.group(1))
        .collect(Collectors.joining(" then "));
  }

  /** {@code why}, then the tail of every log of the run. */
  static String failure(String why) {
    StringBuilder sb = new StringBuilder(why).append('\n');
    processes.forEach(p -> sb.append(p.tail(40)));
    return sb.toString();
  }

  static void assertOk(Outcome o) {
    assertEquals(0, o.code(), o.err());
  }
}
