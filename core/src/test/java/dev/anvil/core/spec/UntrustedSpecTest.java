package dev.anvil.core.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.data.DataException;
import dev.anvil.core.train.PreparedJob;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs from elsewhere ({@link JobSpecParser#parseUntrusted}): every way a spec could reach the
 * node's environment, files, network or heap is refused, fast, and the error holds no secret.
 */
class UntrustedSpecTest {
  static final String SECRET = "hunter2-" + Long.toHexString(System.nanoTime());

  /** Set by {@link NotAModel}'s static initialiser, which must never run. */
  static final AtomicBoolean NOT_A_MODEL_INITIALISED = new AtomicBoolean();

  @TempDir Path dir;
  Path allowed;
  SpecRules rules;

  @BeforeEach
  void setUp() throws Exception {
    System.setProperty("anvil.test.secret", SECRET);
    allowed = Files.createDirectories(dir.resolve("allowed"));
    rules =
        new SpecRules(
            64 * 1024,
            4_000_000,
            1L << 30,
            List.of(allowed.toRealPath()),
            Set.of("dev.anvil.core.model.UserModel", "dev.anvil.core.spec.NotAModel"));
  }

  @AfterEach
  void tearDown() {
    System.clearProperty("anvil.test.secret");
  }

  /** A valid synthetic job with {@code model} and {@code data} sections and extra lines. */
  static String job(String model, String data, String... extra) {
    return "job {\n  name = \"t\"\n  seed = 1\n  model { "
        + model
        + " }\n  data { "
        + data
        + " }\n  optimizer { type = sgd, learning-rate = 0.1 }\n  batch-size = 32\n"
        + "  logical-shards = 4\n  rounds = 10\n"
        + String.join("\n", extra)
        + "\n}\n";
  }

  static final String MLP = "type = mlp, layers = [8, 16, 3]";
  static final String SYNTHETIC = "type = synthetic, samples = 400, features = 8, classes = 3";

  /** The parse fails within a second, with an error that holds no secret, and says so. */
  private JobSpecException refused(String text, String expected) {
    long start = System.nanoTime();
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () -> JobSpecParser.parseUntrusted(text, "the request body", rules));
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 1000, "took " + millis + " ms");
    assertTrue(e.getMessage().contains(expected), e::getMessage);
    assertClean(e.getMessage());
    return e;
  }

  static void assertClean(String message) {
    assertFalse(message.contains(SECRET), "leaks the secret: " + message);
    assertFalse(message.contains(System.getenv("PATH")), "leaks PATH: " + message);
    assertFalse(message.contains("Exception") || message.contains("\tat "), message);
  }

  @Test
  void aValidJobParsesLikeTheUsersOwnFile() {
    String text = job(MLP, SYNTHETIC);
    assertEquals(
        JobSpecParser.parse(text, "file", null),
        JobSpecParser.parseUntrusted(text, "the request body", rules));
  }

  @Test
  void substitutionsOfSystemPropertiesEnvironmentAndKeysAreRefusedUnresolved() {
    JobSpecException e = refused(job(MLP, SYNTHETIC, "  x = ${anvil.test.secret}"), "substitution");
    assertEquals("job.x", e.problems().get(0).path());
    refused(job(MLP, SYNTHETIC, "  x = ${PATH}"), "job.x = a substitution");
    refused(job(MLP, SYNTHETIC, "  x = ${?PATH}"), "job.x = a substitution");
    refused(job(MLP, SYNTHETIC, "  x = \"a\"${PATH}\"b\""), "job.x = a substitution");
    refused(job(MLP, SYNTHETIC, "  x = [1, ${PATH}]"), "job.x[1] = a substitution");
    refused(
        job("type = mlp, layers = ${job.y}", SYNTHETIC, "  y = [8, 16, 3]"),
        "job.model.layers = a substitution");
    refused(job(MLP, SYNTHETIC, "  y = [1]", "  y += 2"), "substitution");
  }

  @Test
  void theDoublingBombIsRefusedBeforeAnythingIsResolved() {
    StringBuilder b = new StringBuilder("a0 = \"xxxxxxxxxxxxxxxx\"\n");
    for (int i = 1; i <= 60; i++) {
      b.append('a')
          .append(i)
          .append(" = ${a")
          .append(i - 1)
          .append("}${a")
          .append(i - 1)
          .append("}\n");
    }
    refused(b + job(MLP, SYNTHETIC, "  name = ${a60}"), "substitution");
  }

  @Test
  void everyKindOfIncludeIsRefusedBeforeAnythingIsRead() throws Exception {
    Path secretFile = Files.writeString(dir.resolve("secret.conf"), "x = \"" + SECRET + "\"\n");
    AtomicBoolean connected = new AtomicBoolean();
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread accept =
          new Thread(
              () -> {
                try {
                  server.accept().close();
                  connected.set(true);
                } catch (Exception e) {
                  // closed by the test
                }
              });
      accept.setDaemon(true);
      accept.start();
      String url = "http://127.0.0.1:" + server.getLocalPort() + "/job.conf";
      for (String include :
          List.of(
              "include file(\"" + secretFile + "\")",
              "include required(file(\"" + secretFile + "\"))",
              "include \"" + secretFile + "\"",
              "include url(\"" + url + "\")",
              "include classpath(\"reference.conf\")",
              "include \"reference.conf\"")) {
        refused(include + "\n" + job(MLP, SYNTHETIC), "holds an include");
        refused(job(MLP, SYNTHETIC, "  " + include), "holds an include");
      }
    }
    assertFalse(connected.get(), "an include url(...) connected");
  }

  @Test
  void errorsNameKeysButNeverEchoValues() {
    JobSpecException e =
        refused(
            job(MLP, SYNTHETIC, "  colour = \"" + SECRET + "\""),
            "job.colour = a string: unknown key");
    assertEquals(1, e.problems().size());
    refused(job("type = \"" + SECRET + "\"", SYNTHETIC), "job.model.type = a string");
    refused(job(MLP, SYNTHETIC, "  kernel = [\"" + SECRET + "\"]"), "job.kernel = a list");
    refused("job { name = \"" + SECRET + "\" ", "not valid HOCON");
  }

  @Test
  void aSpecOverTheSizeLimitIsRefusedBeforeParsing() {
    String big = job(MLP, SYNTHETIC, "  name = \"" + "x".repeat(70_000) + "\"");
    refused(big, "anvil.limits.spec-bytes = 65536");
  }

  @Test
  void sizesAreCheckedExactlyBeforeAnythingIsAllocated() {
    refused(job("type = mlp, layers = [8, 1000000000, 3]", SYNTHETIC), "job.model.layers[1]");
    refused(
        job("type = mlp, layers = [8, 100000, 100000, 3]", SYNTHETIC), "10001300003 parameters");
    refused(
        job(
            "type = mlp, layers = [100000, 16, 3]",
            "type = synthetic, samples = 50000000, features = 100000, classes = 3"),
        "anvil.limits.data-bytes");
    refused(
        job(
            "type = softmax",
            "type = synthetic, samples = 100, features = 100000," + " classes = 100000"),
        "parameters");
    // At the data's sizes: a softmax over a CSV's one million classes.
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () ->
                dev.anvil.core.model.Models.create(
                    new ModelSpec.Softmax(
                        java.util.OptionalInt.empty(), java.util.OptionalInt.empty()),
                    new dev.anvil.core.data.DataShape(5000, 1_000_000, 0, true),
                    null,
                    "job",
                    rules.maxParameters()));
    assertTrue(e.getMessage().contains("5001000000 parameters at the data's sizes"), e::getMessage);
  }

  @Test
  void theFrameSizeBoundsTheParameters() {
    SpecRules fromConfig =
        SpecRules.from(
            com.typesafe.config.ConfigFactory.parseString(
                    "pekko.remote.artery.advanced.maximum-frame-size = 1MiB")
                .withFallback(com.typesafe.config.ConfigFactory.defaultReference()));
    assertEquals((1024 * 1024 - SpecRules.FRAME_OVERHEAD) / 4, fromConfig.maxParameters());
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () ->
                JobSpecParser.parseUntrusted(
                    job("type = mlp, layers = [8, 1000, 1000, 3]", SYNTHETIC), "job", fromConfig));
    assertTrue(e.getMessage().contains("maximum-frame-size"), e::getMessage);
  }

  @Test
  void dataOutsideTheAllowedRootsGetsOneAnswerWhetherItExistsOrNot() throws Exception {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("data.csv"), "1,2,0\n3,4,1\n");
    Files.createSymbolicLink(allowed.resolve("link.csv"), outside.resolve("data.csv"));
    Files.createSymbolicLink(allowed.resolve("linked-folder"), outside);
    String expected = "must be a CSV file in " + allowed.toRealPath();
    for (String path :
        List.of(
            outside.resolve("data.csv").toString(),
            "/etc/passwd",
            "/no/such/file.csv",
            allowed.resolve("link.csv").toString(),
            allowed.resolve("linked-folder/data.csv").toString(),
            allowed.resolve("../outside/data.csv").toString())) {
      JobSpecException e =
          refused(job(MLP, "type = csv, path = \"" + path + "\", label-column = 2"), expected);
      assertFalse(e.getMessage().contains(path), "echoes the path: " + e.getMessage());
    }
    refused(
        job(MLP, "type = csv, path = \"data.csv\", label-column = 2"), "must be an absolute path");
    refused(job(MLP, "type = idx, path = \"/etc\""), "must be a folder of IDX files in");
    SpecRules none = new SpecRules(65536, 1000, 1000, List.of(), Set.of());
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () ->
                JobSpecParser.parseUntrusted(
                    job(MLP, "type = idx, path = \"/usr/share/datasets\""), "job", none));
    assertTrue(e.getMessage().contains("reads no data files"), e::getMessage);
  }

  @Test
  void aCsvInAnAllowedRootLoadsButItsContentNeverReachesAnError() throws Exception {
    Path secretCsv = Files.writeString(allowed.resolve("secret.csv"), SECRET + "\n");
    JobSpec spec =
        JobSpecParser.parseUntrusted(
            job("type = softmax", "type = csv, path = \"" + secretCsv + "\", label-column = 0"),
            "job",
            rules);
    DataException e =
        assertThrows(DataException.class, () -> PreparedJob.prepare(spec, "job", rules));
    assertFalse(e.getMessage().contains(SECRET), e::getMessage);
    Path header =
        Files.writeString(allowed.resolve("header.csv"), "a," + SECRET + ",label\n1,2,0\n3,4,1\n");
    JobSpec named =
        JobSpecParser.parseUntrusted(
            job("type = softmax", "type = csv, path = \"" + header + "\", label-column = class"),
            "job",
            rules);
    e = assertThrows(DataException.class, () -> PreparedJob.prepare(named, "job", rules));
    assertFalse(e.getMessage().contains(SECRET), e::getMessage);
    Path cell = Files.writeString(allowed.resolve("cell.csv"), "1,2,0\n3," + SECRET + ",1\n");
    JobSpec cells =
        JobSpecParser.parseUntrusted(
            job("type = softmax", "type = csv, path = \"" + cell + "\", label-column = 2"),
            "job",
            rules);
    e = assertThrows(DataException.class, () -> PreparedJob.prepare(cells, "job", rules));
    assertFalse(e.getMessage().contains(SECRET), e::getMessage);
  }

  @Test
  void dataFilesOverTheLimitAreRefusedBeforeTheyAreRead() throws Exception {
    Path csv = Files.writeString(allowed.resolve("big.csv"), "1,2,0\n".repeat(2000));
    SpecRules small = new SpecRules(65536, 4_000_000, 1000, rules.allowedDataRoots(), Set.of());
    JobSpecException e =
        assertThrows(
            JobSpecException.class,
            () ->
                JobSpecParser.parseUntrusted(
                    job("type = softmax", "type = csv, path = \"" + csv + "\", label-column = 2"),
                    "job",
                    small));
    assertTrue(e.getMessage().contains("data files of 12000 bytes"), e::getMessage);
  }

  @Test
  void onlyAllowedModelClassesAndNoneIsInitialisedBeforeItIsKnownToBeAModel() {
    refused(
        job("type = class, class = \"java.lang.Runtime\"", SYNTHETIC),
        "anvil.models.allowed-classes");
    JobSpec spec =
        JobSpecParser.parseUntrusted(
            job("type = class, class =" + " \"dev.anvil.core.spec.NotAModel\"", SYNTHETIC),
            "job",
            rules);
    JobSpecException e =
        assertThrows(JobSpecException.class, () -> PreparedJob.prepare(spec, "job", rules));
    assertTrue(e.getMessage().contains("must implement dev.anvil.core.model.Model"), e::getMessage);
    assertFalse(NOT_A_MODEL_INITIALISED.get(), "the class's static initialiser ran");
    JobSpec user =
        JobSpecParser.parseUntrusted(
            job("type = class, class =" + " \"dev.anvil.core.model.UserModel\"", SYNTHETIC),
            "job",
            rules);
    assertInstanceOf(ModelSpec.Custom.class, user.model());
    assertEquals(27, PreparedJob.prepare(user, "job", rules).model().parameterCount());
  }

  @Test
  void aJobFileOfTheUsersOwnMayStillIncludeAndSubstitute() throws Exception {
    Files.writeString(dir.resolve("common.conf"), "common { rounds = 10 }\n");
    Path file =
        Files.writeString(
            dir.resolve("job.conf"),
            "include \"common.conf\"\n"
                + job(MLP, SYNTHETIC).replace("rounds = 10", "rounds = ${common.rounds}"));
    assertEquals(new TrainingLength.Rounds(10), JobSpecParser.parse(file).length());
  }
}
