package dev.anvil.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  static final Path EXAMPLES = Path.of("..", "examples");

  @TempDir Path dir;

  /** The exit code and what the command printed. */
  record Outcome(int code, String out, String err) {}

  static Outcome anvil(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Outcome(
          code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** A file's text, or a note that it is missing (for assertion messages). */
  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      return "(no " + file + ")";
    }
  }

  private Path badJob(String from, String to) throws Exception {
    String text = Files.readString(EXAMPLES.resolve("synthetic-mlp.conf")).replace(from, to);
    assertTrue(text.contains(to));
    Path file = dir.resolve("bad.conf");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void trainLocalWritesACompleteResultIndependentOfWorkers() throws Exception {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    Outcome first =
        anvil(
            "train",
            "--local",
            "--job",
            EXAMPLES.resolve("synthetic-mlp.conf").toString(),
            "--out",
            a.toString(),
            "--kernel",
            "java",
            "--rounds",
            "60");
    assertEquals(0, first.code(), first.err());
    assertTrue(first.out().contains("paramsSha256 "), first.out());
    Outcome second =
        anvil(
            "train",
            "--local",
            "--job",
            EXAMPLES.resolve("synthetic-mlp.conf").toString(),
            "--out",
            b.toString(),
            "--kernel",
            "java",
            "--rounds",
            "60",
            "--workers",
            "3",
            "--quiet");
    assertEquals(0, second.code(), second.err());

    ObjectMapper json = new ObjectMapper();
    JsonNode r = json.readTree(a.toFile());
    for (String key :
        new String[] {
          "job",
          "rounds",
          "epochs",
          "trainLoss",
          "testAccuracy",
          "paramsSha256",
          "kernel",
          "dataFingerprint",
          "wallSeconds",
          "samplesPerSecond"
        }) {
      assertTrue(r.has(key), "result.json lacks " + key);
    }
    assertEquals("synthetic-mlp", r.get("job").asText());
    assertEquals(60, r.get("rounds").asLong());
    assertEquals("java", r.get("kernel").asText());
    assertEquals(1, r.get("history").size()); // 60 rounds end inside epoch 1 (168 rounds)
    JsonNode r3 = json.readTree(b.toFile());
    assertEquals(3, r3.get("workers").asInt());
    assertEquals(r.get("paramsSha256").asText(), r3.get("paramsSha256").asText());
  }

  @Test
  void invalidSpecExitsWith2AndNamesTheField() throws Exception {
    Outcome o =
        anvil(
            "train",
            "--local",
            "--job",
            badJob("learning-rate = 0.05", "learning-rate = -1").toString(),
            "--out",
            dir.resolve("r.json").toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("job.optimizer.learning-rate = -1: a finite number > 0"), o.err());
    assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
    assertFalse(Files.exists(dir.resolve("r.json")));
  }

  @Test
  void corruptDataExitsWith2WithoutATrace() throws Exception {
    Path data = Files.createDirectories(dir.resolve("idx"));
    for (String f :
        new String[] {
          "train-images-idx3-ubyte",
          "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte",
          "t10k-labels-idx1-ubyte"
        }) {
      Files.write(
          data.resolve(f), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
    }
    Outcome o =
        anvil(
            "train",
            "--local",
            "--job",
            badJob(
                    "type = synthetic, samples = 24000, features = 32, classes = 8, seed = 11",
                    "type = idx, path = \"" + data + "\"")
                .toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("does not start with the IDX magic number 0x00000803"), o.err());
    assertFalse(o.err().contains("\tat "), o.err());
  }

  @Test
  void contradictoryModesAreRejected() {
    Outcome o =
        anvil(
            "train",
            "--local",
            "--nodes",
            "2",
            "--job",
            EXAMPLES.resolve("synthetic-mlp.conf").toString());
    assertEquals(2, o.code());
    assertTrue(
        o.err()
            .contains("--local runs in this process: it takes neither --nodes nor" + " --cluster"),
        o.err());
    Outcome both = anvil("train", "--nodes", "2", "--cluster", "h:1", "--job", "x.conf");
    assertEquals(2, both.code());
    assertTrue(both.err().contains("give one of them"), both.err());
  }

  @Test
  void importingACorruptCheckpointFileIsRefusedBeforeAnyClusterIsAsked() throws Exception {
    Path file = dir.resolve("job.anvilckpt");
    Files.write(
        file,
        "ANVILCKP-but-not-really-a-checkpoint-file-at-all-0123456789"
            .getBytes(StandardCharsets.US_ASCII));
    Outcome o = anvil("checkpoint", "import", file.toString(), "--cluster", "127.0.0.1:1");
    assertEquals(2, o.code());
    assertTrue(
        o.err()
            .contains(
                file + " is not a usable checkpoint: its SHA-256 does not" + " match its contents"),
        o.err());
    Outcome missing =
        anvil("checkpoint", "import", dir.resolve("nope").toString(), "--cluster", "127.0.0.1:1");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("cannot read " + dir.resolve("nope")), missing.err());
  }

  @Test
  void controlCommandsSayWhenNoApiAnswers() {
    Outcome o = anvil("pause", "some-job", "--cluster", "127.0.0.1:1");
    assertEquals(1, o.code());
    assertTrue(o.err().contains("no Anvil HTTP API at http://127.0.0.1:1"), o.err());
    Outcome bad = anvil("status", "--cluster", "not an address");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--cluster = not an address: expected HOST:PORT"), bad.err());
  }

  @Test
  void nodeWithoutADatabaseSaysWhatItNeeds() {
    Outcome o = anvil("node", "--port", "2551", "--seed", "127.0.0.1:2551");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("anvil node needs --db jdbc:postgresql://"), o.err());
  }

  @Test
  void nodeTakesEitherADatabaseOrHostsOne() {
    Outcome both =
        anvil(
            "node",
            "--port",
            "2551",
            "--seed",
            "127.0.0.1:2551",
            "--db",
            "jdbc:postgresql://db:5432/anvil",
            "--host-db",
            dir.resolve("pg").toString());
    assertEquals(2, both.code());
    assertTrue(both.err().contains("--db and --host-db exclude each other"), both.err());
    assertTrue(
        anvil("node", "--port", "2551", "--seed", "127.0.0.1:2551").err().contains("--host-db DIR"),
        "the error names both ways");
  }

  @Test
  void trainOnALocalClusterWritesTheReferenceHash() throws Exception {
    Path out = dir.resolve("cluster.json");
    Outcome o =
        anvil(
            "train",
            "--job",
            EXAMPLES.resolve("synthetic-mlp.conf").toString(),
            "--nodes",
            "2",
            "--workers",
            "3",
            "--kernel",
            "java",
            "--rounds",
            "40",
            "--quiet",
            "--out",
            out.toString(),
            "--run-dir",
            dir.resolve("run").toString());
    assertEquals(0, o.code(), o.out() + o.err());
    Outcome ref =
        anvil(
            "train",
            "--local",
            "--job",
            EXAMPLES.resolve("synthetic-mlp.conf").toString(),
            "--kernel",
            "java",
            "--rounds",
            "40",
            "--quiet",
            "--out",
            dir.resolve("ref.json").toString());
    JsonNode cluster = new ObjectMapper().readTree(out.toFile());
    JsonNode local = new ObjectMapper().readTree(dir.resolve("ref.json").toFile());
    assertEquals(local.get("paramsSha256").asText(), cluster.get("paramsSha256").asText());
    assertEquals(3, cluster.get("workers").asInt());
    assertEquals(2, cluster.get("nodes").asInt());
    assertEquals(0, ref.code());
  }

  @Test
  void badOptionValuesAreRejected() {
    Outcome kernel = anvil("train", "--local", "--job", "x.conf", "--kernel", "gpu");
    assertEquals(2, kernel.code());
    assertTrue(
        kernel.err().contains("--kernel = gpu: must be one of auto | native | java"), kernel.err());
    Outcome missing = anvil("train", "--local", "--job", dir.resolve("none.conf").toString());
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("job file = " + dir.resolve("none.conf")), missing.err());
    assertTrue(missing.err().contains("cannot be read"), missing.err());
  }

  @Test
  void validateChecksSpecAndData() throws Exception {
    Outcome ok = anvil("validate", "--job", EXAMPLES.resolve("synthetic-mlp.conf").toString());
    assertEquals(0, ok.code(), ok.err());
    assertTrue(
        ok.out()
            .contains(
                "valid. mlp 32-64-8 relu (2632 parameters); 21600 training"
                    + " samples, 2400 test samples; 840 rounds (168 per epoch)"),
        ok.out());
    Outcome bad =
        anvil(
            "validate", "--job", badJob("layers = [32, 64, 8]", "layers = [31, 64, 8]").toString());
    assertEquals(2, bad.code());
    assertTrue(
        bad.err().contains("job.model.layers[0] = 31: must equal the data's 32" + " features"),
        bad.err());
  }

  @Test
  void demoOnSyntheticDataShowsBitwiseEqualRuns() {
    Outcome o = anvil("demo", "--synthetic", "--nodes", "2", "--out", dir.toString());
    assertEquals(0, o.code(), o.out() + o.err());
    assertTrue(
        o.out()
            .contains(
                "OK: the reference and the 2-node cluster ended with bitwise"
                    + " identical parameters"),
        o.out());
    assertTrue(Files.exists(dir.resolve("result-reference.json")));
    assertTrue(Files.exists(dir.resolve("result-cluster.json")));
  }
}
