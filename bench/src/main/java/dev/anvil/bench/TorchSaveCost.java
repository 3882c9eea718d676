package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * torch.save of a model the size of a {@link BenchModel}, for reference (when {@code
 * /usr/bin/python3} imports torch): the same layers as a {@code torch.nn.Sequential}, the same
 * optimizer after one step, {@code torch.save({model, optimizer state_dict})} to a BytesIO, a file,
 * and a file with fsync; one thread (OMP_NUM_THREADS=1), medians over the direct part's repetitions
 * after its warm-up.
 */
final class TorchSaveCost {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SCRIPT =
      """
      import io, json, os, statistics, sys, tempfile, time
      import torch
      torch.set_num_threads(1)
      layers = [int(v) for v in sys.argv[1].split(",")]
      optimizer, reps, warmup = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
      torch.manual_seed(0)
      mods = []
      for i in range(len(layers) - 1):
          mods.append(torch.nn.Linear(layers[i], layers[i + 1]))
          if i < len(layers) - 2:
              mods.append(torch.nn.ReLU())
      model = torch.nn.Sequential(*mods)
      if optimizer == "adam":
          opt = torch.optim.Adam(model.parameters(), lr=0.001)
      else:
          opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
      x = torch.randn(128, layers[0])
      y = torch.randint(0, layers[-1], (128,))
      torch.nn.functional.cross_entropy(model(x), y).backward()
      opt.step()  # creates the optimizer state (momentum buffers / moments)
      def state():
          return {"model": model.state_dict(), "optimizer": opt.state_dict()}
      folder = tempfile.mkdtemp(prefix="anvil-bench-torchsave")
      path = os.path.join(folder, "checkpoint.pt")
      def bytesio():
          b = io.BytesIO()
          torch.save(state(), b)
          return b.tell()
      def to_file(sync):
          with open(path, "wb") as f:
              torch.save(state(), f)
              if sync:
                  f.flush()
                  os.fsync(f.fileno())
      cases = [("bytesio", bytesio), ("file", lambda: to_file(False)),
               ("file+fsync", lambda: to_file(True))]
      out = {}
      for name, fn in cases:
          times = []
          for r in range(warmup + reps):
              t0 = time.perf_counter()
              fn()
              if r >= warmup:
                  times.append((time.perf_counter() - t0) * 1000)
          out[name + "_ms"] = statistics.median(times)
      out["bytes"] = bytesio()
      os.remove(path)
      os.rmdir(folder)
      print(json.dumps(out))
      """;

  /** The medians (ms) and the size of one model's torch.save, or why there are none. */
  record Result(double bytesio, double file, double fileSync, long bytes, String problem) {
    static Result none(String problem) {
      return new Result(0, 0, 0, 0, problem);
    }

    boolean measured() {
      return problem == null;
    }
  }

  private TorchSaveCost() {}

  static Result measure(BenchModel m, CheckpointBenchOptions options) {
    Path python = PyTorchPeer.PYTHON;
    if (!Files.isExecutable(python)) {
      return Result.none(python + " not found");
    }
    Path script = null;
    try {
      script = Files.createTempFile("anvil-bench-torchsave", ".py");
      Files.writeString(script, SCRIPT);
      ProcessBuilder pb =
          new ProcessBuilder(
                  python.toString(),
                  script.toString(),
                  m.layers().replace(" ", ""),
                  options.optimizer().label(),
                  String.valueOf(options.directReps()),
                  String.valueOf(options.directWarmup()))
              .redirectErrorStream(true);
      pb.environment().put("OMP_NUM_THREADS", "1");
      Process p = pb.start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String last = output.strip().substring(output.strip().lastIndexOf('\n') + 1);
      if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
        return Result.none("the torch.save script failed: " + last);
      }
      JsonNode j = JSON.readTree(last);
      return new Result(
          j.path("bytesio_ms").asDouble(),
          j.path("file_ms").asDouble(),
          j.path("file+fsync_ms").asDouble(),
          j.path("bytes").asLong(),
          null);
    } catch (IOException | InterruptedException e) {
      return Result.none(e.toString());
    } finally {
      deleteScript(script);
    }
  }

  private static void deleteScript(Path script) {
    try {
      if (script != null) {
        Files.deleteIfExists(script);
      }
    } catch (IOException ignored) {
      // a temp file left behind
    }
  }
}
