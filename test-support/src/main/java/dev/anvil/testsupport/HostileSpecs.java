package dev.anvil.testsupport;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The hostile job specs of the security issue's matrix, for tests that send them to a node (over
 * HTTP, or as cluster messages to a worker). The secret is a system property of the test JVM, which
 * the in-process node shares, and the first line of a CSV file in its allowed folder.
 */
public final class HostileSpecs {
  public static final String SECRET = "s3cr3t-" + Long.toHexString(System.nanoTime());
  public static final String MLP = "type = mlp, layers = [8, 16, 3]";
  public static final String SYNTHETIC =
      "type = synthetic, samples = 1200, features = 8," + " classes = 3, seed = 2";

  private HostileSpecs() {}

  /** Sets the secret property and writes the secret files; returns the folder to allow. */
  public static Path prepare(Path dir) throws IOException {
    System.setProperty("anvil.test.secret", SECRET);
    Path data = Files.createDirectories(dir.resolve("data"));
    Files.writeString(data.resolve("secret.csv"), SECRET + "\n");
    Files.writeString(dir.resolve("secret.conf"), "x = " + SECRET + "\n");
    return data;
  }

  public static String job(String model, String data, String... extra) {
    return "job {\n  name = \"t\"\n  seed = 3\n  model { "
        + model
        + " }\n  data { "
        + data
        + " }\n  optimizer { type = sgd, learning-rate = 0.05 }\n  batch-size = 48\n"
        + "  logical-shards = 6\n  rounds = 400\n  kernel = java\n"
        + String.join("\n", extra)
        + "\n}\n";
  }

  /** The matrix, by what each tries; {@link #prepare} must have run on {@code dir}. */
  public static Map<String, String> all(Path dir) {
    StringBuilder bomb = new StringBuilder("a0 = \"xxxxxxxxxxxxxxxx\"\n");
    for (int i = 1; i <= 60; i++) {
      bomb.append("a")
          .append(i)
          .append(" = ${a")
          .append(i - 1)
          .append("}${a")
          .append(i - 1)
          .append("}\n");
    }
    Map<String, String> specs = new LinkedHashMap<>();
    specs.put("env substitution", job(MLP, SYNTHETIC, "  x = ${PATH}"));
    specs.put("system property substitution", job(MLP, SYNTHETIC, "  x = ${anvil.test.secret}"));
    specs.put(
        "include file",
        "include file(\"" + dir.resolve("secret.conf") + "\")\n" + job(MLP, SYNTHETIC));
    specs.put(
        "include url", "include url(\"http://127.0.0.1:9/job.conf\")\n" + job(MLP, SYNTHETIC));
    specs.put("include classpath", "include classpath(\"reference.conf\")\n" + job(MLP, SYNTHETIC));
    specs.put("doubling bomb", bomb + job(MLP, SYNTHETIC, "  name = ${a60}"));
    specs.put("10^9-wide layer", job("type = mlp, layers = [8, 1000000000, 3]", SYNTHETIC));
    specs.put(
        "5e7 x 1e5 synthetic set",
        job(
            "type = mlp, layers = [100000, 16, 3]",
            "type = synthetic, samples = 50000000, features = 100000, classes = 3"));
    specs.put(
        "data outside the allowed roots",
        job(MLP, "type = csv, path = \"/etc/passwd\", label-column = 0"));
    specs.put(
        "a CSV whose first line is a secret",
        job(
            "type = softmax",
            "type = csv, path = \"" + dir.resolve("data/secret.csv") + "\", label-column = 0"));
    specs.put(
        "a class not on the allow list",
        job("type = class, class = \"java.lang.Runtime\"", SYNTHETIC));
    specs.put("a secret in an unknown key", job(MLP, SYNTHETIC, "  colour = \"" + SECRET + "\""));
    return specs;
  }

  /** No secret, environment value or stack trace in {@code text}. */
  public static void assertClean(String text) {
    assertFalse(text.contains(SECRET), "leaks the secret: " + text);
    assertFalse(text.contains(System.getenv("PATH")), "leaks PATH: " + text);
    assertFalse(text.contains("Exception") || text.contains("\tat "), text);
  }
}
