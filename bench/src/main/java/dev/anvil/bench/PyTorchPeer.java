package dev.anvil.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * PyTorch's single-process trainer ({@code train_single.py} of the peer scripts) run as a
 * subprocess with one intra-op thread ({@code --threads 1}), in one of two {@link Config}s that
 * differ in how many cores OpenBLAS may use. The scripts write next to themselves (a data cache,
 * the results file), so they run from a private copy in a temp folder.
 */
final class PyTorchPeer implements AutoCloseable {
  /** {@code /usr/bin/python3} (Debian's, where python3-torch installs), or -Danvil.bench.python. */
  static final Path PYTHON = Path.of(System.getProperty("anvil.bench.python", "/usr/bin/python3"));

  static final Path SCRIPTS = Path.of("/work/shared/peers/pytorch");
  private static final Pattern SPS = Pattern.compile("\"sps\":\\s*\\[([^\\]]*)\\]");
  private static final Pattern ACC = Pattern.compile("\"acc\":\\s*\\{[^}]*:\\s*([0-9.eE+-]+)\\s*}");

  /**
   * How the peer's process may use the cores. The peer README measures {@link #BLAS_FREE} as the
   * fastest single process on this 2-core VM (large MLP ~13,900 samples/s against ~8,900 on one
   * core; small ~171,000 against ~160,000, from separate runs) and 2 intra-op threads as 3x slower.
   * This JVM runs with OPENBLAS_NUM_THREADS=1, which the subprocess would otherwise inherit.
   */
  enum Config {
    /** OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1: strictly one core. */
    ONE_CORE("1core", "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 (strictly one core)"),
    /** Neither set: OpenBLAS starts a thread per core, torch computes the rest on one. */
    BLAS_FREE("blasfree", "OMP_NUM_THREADS, OPENBLAS_NUM_THREADS unset (OpenBLAS uses every core)");

    private final String label;
    private final String environment;

    Config(String label, String environment) {
      this.label = label;
      this.environment = environment;
    }

    /** As on the command line: 1core or blasfree. */
    String label() {
      return label;
    }

    /** What the subprocess's environment says about threads. */
    String environment() {
      return environment;
    }

    private void applyTo(Map<String, String> env) {
      if (this == ONE_CORE) {
        env.put("OMP_NUM_THREADS", "1");
        env.put("OPENBLAS_NUM_THREADS", "1");
      } else {
        env.remove("OMP_NUM_THREADS");
        env.remove("OPENBLAS_NUM_THREADS");
      }
    }
  }

  /** Torch's version, or why the peer cannot run. */
  record Probe(String version, String problem) {}

  /** One run: per-epoch samples/s (evaluation excluded) and the final test accuracy. */
  record Run(List<Double> epochRates, double accuracy) {
    /** Median over epochs 2..E (epoch 1 includes warm-up); epoch 1 alone when E = 1. */
    double steady() {
      return Stats.median(
          epochRates.size() > 1 ? epochRates.subList(1, epochRates.size()) : epochRates);
    }

    /** All epochs together: every epoch trains the same number of samples. */
    double overall() {
      double inverse = 0;
      for (double r : epochRates) {
        inverse += 1 / r;
      }
      return epochRates.size() / inverse;
    }
  }

  private final Path dir;
  private int runs;

  private PyTorchPeer(Path dir) {
    this.dir = dir;
  }

  static Probe probe() {
    if (!Files.isExecutable(PYTHON)) {
      return new Probe(null, PYTHON + " not found (apt-get install python3 python3-torch)");
    }
    if (!Files.isRegularFile(SCRIPTS.resolve("train_single.py"))) {
      return new Probe(null, SCRIPTS.resolve("train_single.py") + " not found");
    }
    try {
      Path log = Files.createTempFile("anvil-torch-probe", ".log");
      try {
        int rc =
            exec(
                List.of(PYTHON.toString(), "-c", "import torch; print(torch.__version__)"),
                Path.of("."),
                log,
                120,
                Config.ONE_CORE);
        String out = Files.readString(log, StandardCharsets.UTF_8).strip();
        return rc == 0 && !out.isEmpty()
            ? new Probe(lastLine(out), null)
            : new Probe(null, "torch is missing (apt-get install python3-torch): " + lastLine(out));
      } finally {
        Files.deleteIfExists(log);
      }
    } catch (IOException e) {
      return new Probe(null, "cannot run " + PYTHON + ": " + e.getMessage());
    }
  }

  /** Copies the peer scripts to a fresh temp folder. */
  static PyTorchPeer copyScripts() throws IOException {
    return new PyTorchPeer(copyScriptsTo("anvil-bench-pytorch"));
  }

  /** A fresh temp folder holding a copy of the peer scripts (they write next to themselves). */
  static Path copyScriptsTo(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    try (Stream<Path> files = Files.walk(SCRIPTS)) {
      for (Path source : (Iterable<Path>) files::iterator) {
        Path target = dir.resolve(SCRIPTS.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
    return dir;
  }

  /**
   * Runs {@code train_single.py --model model --threads 1} in {@code config} for {@code epochs}.
   */
  Run train(String model, Config config, int epochs) throws IOException {
    runs++;
    Path out = dir.resolve("x-" + runs + ".jsonl");
    Path log = dir.resolve("x-" + runs + ".log");
    List<String> command =
        List.of(
            PYTHON.toString(),
            "train_single.py",
            "--model",
            model,
            "--epochs",
            String.valueOf(epochs),
            "--threads",
            "1",
            "--out",
            out.toString());
    int rc = exec(command, dir, log, 300 + 300L * epochs, config);
    String output = Files.readString(log, StandardCharsets.UTF_8);
    if (rc != 0 || !Files.exists(out)) {
      throw new IOException("train_single.py failed (exit " + rc + "): " + lastLine(output));
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    String json = lines.get(lines.size() - 1);
    Matcher sps = SPS.matcher(json);
    if (!sps.find()) {
      throw new IOException("no \"sps\" in " + out + ": " + json);
    }
    List<Double> rates = new ArrayList<>();
    for (String s : sps.group(1).split(",")) {
      rates.add(Double.parseDouble(s.strip()));
    }
    Matcher acc = ACC.matcher(json);
    return new Run(List.copyOf(rates), acc.find() ? Double.parseDouble(acc.group(1)) : Double.NaN);
  }

  private static int exec(
      List<String> command, Path dir, Path log, long timeoutSeconds, Config config)
      throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    config.applyTo(pb.environment());
    return await(pb, timeoutSeconds);
  }

  /**
   * Starts {@code pb} and waits up to {@code timeoutSeconds} for its exit code; on a timeout or an
   * interrupt the process and its children (torchrun's workers) are killed.
   */
  static int await(ProcessBuilder pb, long timeoutSeconds) throws IOException {
    Process process = pb.start();
    try {
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        kill(process);
        throw new IOException(pb.command() + " did not finish within " + timeoutSeconds + " s");
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      kill(process);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for " + pb.command(), e);
    }
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  private static String lastLine(String output) {
    String[] lines = output.strip().split("\n");
    String last = lines[lines.length - 1];
    return last.isEmpty() ? "(no output)" : last;
  }

  @Override
  public void close() {
    Console.deleteTree(dir);
  }
}
