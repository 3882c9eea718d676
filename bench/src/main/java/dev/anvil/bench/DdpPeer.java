package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * PyTorch DistributedDataParallel over gloo, 2 processes x 1 core ({@code train_ddp.py --mode ddp}
 * of the peer scripts under {@code torchrun_fixed.py --standalone --nproc_per_node=2}), run as a
 * subprocess with {@code OMP_NUM_THREADS=1}, as documented in {@code /work/shared/peers/README.md}.
 * The scripts write next to themselves, so they run from a private copy in a temp folder.
 */
final class DdpPeer implements AutoCloseable {
  static final Path PYTHON = PyTorchPeer.PYTHON;
  static final Path SCRIPTS = PyTorchPeer.SCRIPTS;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One run: per-epoch samples/s (each epoch's 234 steps between barriers, evaluation excluded),
   * the last epoch's test accuracy, and rank 0's per-step split (ms) over all epochs: forward
   * (including batch slicing), backward (including DDP's overlapped bucket allreduces) and the
   * optimizer step.
   */
  record Run(List<Double> epochRates, double accuracy, double fwdMs, double bwdMs, double optMs) {
    /** Epoch {@code e} (1-based) when present, else the last epoch. */
    double epoch(int e) {
      return epochRates.get(Math.min(e, epochRates.size()) - 1);
    }
  }

  private final Path dir;
  private int runs;

  private DdpPeer(Path dir) {
    this.dir = dir;
  }

  /** Why the peer cannot run, or null when it can. */
  static String problem() {
    for (String script : List.of("train_ddp.py", "torchrun_fixed.py", "common.py")) {
      if (!Files.isRegularFile(SCRIPTS.resolve(script))) {
        return SCRIPTS.resolve(script) + " not found";
      }
    }
    PyTorchPeer.Probe probe = PyTorchPeer.probe();
    return probe.problem();
  }

  /** Copies the peer scripts to a fresh temp folder. */
  static DdpPeer copyScripts() throws IOException {
    return new DdpPeer(PyTorchPeer.copyScriptsTo("anvil-bench-ddp"));
  }

  /** Runs {@code train_ddp.py --model <model> --epochs <epochs> --mode ddp} on 2 processes. */
  Run train(String model, int epochs) throws IOException {
    runs++;
    Path out = dir.resolve("ddp-" + runs + ".jsonl");
    Path log = dir.resolve("ddp-" + runs + ".log");
    List<String> command =
        List.of(
            PYTHON.toString(),
            "torchrun_fixed.py",
            "--standalone",
            "--nproc_per_node=2",
            "train_ddp.py",
            "--model",
            model,
            "--epochs",
            String.valueOf(epochs),
            "--mode",
            "ddp",
            "--tag",
            "anvil-bench-" + runs,
            "--out",
            out.toString());
    int rc = exec(command, log, 300 + 300L * epochs);
    if (rc != 0 || !Files.exists(out)) {
      throw new IOException(
          "train_ddp.py failed (exit "
              + rc
              + "): "
              + tail(Files.readString(log, StandardCharsets.UTF_8), 5));
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    JsonNode r = JSON.readTree(lines.get(lines.size() - 1));
    List<Double> rates = new ArrayList<>();
    r.path("sps").forEach(v -> rates.add(v.asDouble()));
    if (rates.isEmpty()) {
      throw new IOException("no \"sps\" in " + out + ": " + lines.get(lines.size() - 1));
    }
    double acc = Double.NaN;
    for (JsonNode v : r.path("acc")) {
      acc = v.asDouble(); // insertion order: the last epoch's comes last
    }
    double steps = 234.0 * rates.size();
    return new Run(
        List.copyOf(rates),
        acc,
        sumMs(r.path("fwd_s")) / steps,
        sumMs(r.path("bwd_s")) / steps,
        sumMs(r.path("opt_s")) / steps);
  }

  private static double sumMs(JsonNode seconds) {
    double s = 0;
    for (JsonNode v : seconds) {
      s += v.asDouble();
    }
    return s * 1e3;
  }

  private int exec(List<String> command, Path log, long timeoutSeconds) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    // The documented command: OMP_NUM_THREADS=1 only. (OpenBLAS falls back to OMP_NUM_THREADS
    // when OPENBLAS_NUM_THREADS is unset, so each process computes on one thread either way.)
    pb.environment().remove("OPENBLAS_NUM_THREADS");
    pb.environment().put("OMP_NUM_THREADS", "1");
    return PyTorchPeer.await(pb, timeoutSeconds);
  }

  private static String tail(String output, int n) {
    String[] lines = output.strip().split("\n");
    return String.join(" | ", List.of(lines).subList(Math.max(0, lines.length - n), lines.length));
  }

  @Override
  public void close() {
    Console.deleteTree(dir);
  }
}
