package dev.anvil.cli;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import dev.anvil.core.train.TrainingResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Runs a job on the single-process reference trainer and writes its result.json. */
final class ReferenceRun {
  private ReferenceRun() {}

  static TrainingResult run(JobSpec spec, String origin, int workers, TrainingListener listener) {
    long t0 = System.nanoTime();
    PreparedJob job = PreparedJob.prepare(spec, origin);
    double loadSeconds = (System.nanoTime() - t0) / 1e9;
    return new LocalTrainer(job, workers, listener).run(loadSeconds);
  }

  static void write(TrainingResult result, Path out) {
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
      Files.writeString(tmp, result.toJson(), StandardCharsets.UTF_8);
      Files.move(
          tmp,
          out,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
  }

  static String summary(TrainingResult r) {
    String quality =
        r.testAccuracy() != null
            ? String.format(Locale.ROOT, "test accuracy %.4f", r.testAccuracy())
            : String.format(Locale.ROOT, "test loss %.6f", r.testLoss());
    return String.format(
        Locale.ROOT,
        "%s: %d rounds (%.2f epochs), train loss %.4f, %s,"
            + " %s samples/s, %.1f s%nparamsSha256 %s (kernel %s)",
        r.job(),
        r.rounds(),
        r.epochs(),
        r.trainLoss(),
        quality,
        ProgressBar.compact(r.samplesPerSecond()),
        r.wallSeconds(),
        r.paramsSha256(),
        r.kernel());
  }
}
