package dev.anvil.cli;

import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.RoundProgress;
import dev.anvil.core.train.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows a run's progress. On a terminal: one line redrawn at most ten times a second with rounds,
 * loss and samples/s. Elsewhere (logs, CI): no redraws, only the per-epoch lines.
 */
final class ProgressBar implements TrainingListener {
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final int WIDTH = 24;

  private final PrintStream out;
  private final boolean terminal;
  private final boolean quiet;
  private long lastDraw;
  private boolean drawn;

  ProgressBar(PrintStream out, boolean terminal, boolean quiet) {
    this.out = out;
    this.terminal = terminal;
    this.quiet = quiet;
  }

  static ProgressBar forConsole(boolean quiet) {
    return new ProgressBar(System.out, System.console() != null, quiet);
  }

  @Override
  public void started(PreparedJob job, int workers) {
    if (quiet) {
      return;
    }
    out.printf(
        Locale.ROOT,
        "job %s: %s on %s; %d train / %d test samples; %d rounds of %d"
            + " (%d logical shards, %d workers); kernel %s%n",
        job.spec().name(),
        job.model().describe(),
        job.data().description(),
        job.data().train().rows(),
        job.data().test().rows(),
        job.totalRounds(),
        job.spec().batchSize(),
        job.spec().logicalShards(),
        workers,
        job.kernel().name());
  }

  @Override
  public void roundCommitted(RoundProgress p) {
    if (quiet || !terminal) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastDraw < REDRAW_NANOS && p.round() != p.totalRounds()) {
      return;
    }
    lastDraw = now;
    int filled = (int) (WIDTH * p.round() / p.totalRounds());
    String epoch =
        Double.isNaN(p.epochs()) ? "" : String.format(Locale.ROOT, "  epoch %.2f", p.epochs());
    out.printf(
        Locale.ROOT,
        "\r[%s%s] round %d/%d%s  loss %.4f  %s samples/s ",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        p.round(),
        p.totalRounds(),
        epoch,
        p.loss(),
        compact(p.samplesPerSecond()));
    out.flush();
    drawn = true;
  }

  @Override
  public void epochCompleted(EpochReport r) {
    if (quiet) {
      return;
    }
    clearBar();
    String test =
        r.testAccuracy() != null
            ? String.format(
                Locale.ROOT, "test accuracy %.4f  test loss %.4f", r.testAccuracy(), r.testLoss())
            : String.format(Locale.ROOT, "test loss %.6f", r.testLoss());
    out.printf(
        Locale.ROOT,
        "epoch %6.2f  round %7d  train loss %.4f  %s%n",
        r.epoch(),
        r.round(),
        r.trainLoss(),
        test);
  }

  /** A line of its own (clearing a drawn bar first). */
  void message(String line) {
    if (quiet) {
      return;
    }
    clearBar();
    out.println(line);
  }

  /** Prints the per-epoch lines of a finished run's history. */
  void history(com.fasterxml.jackson.databind.JsonNode result) {
    for (com.fasterxml.jackson.databind.JsonNode e : result.get("history")) {
      epochCompleted(
          new EpochReport(
              e.get("epoch").asDouble(),
              e.get("round").asLong(),
              e.get("trainLoss").asDouble(),
              e.get("testLoss").asDouble(),
              e.has("testAccuracy") ? e.get("testAccuracy").asDouble() : null));
    }
  }

  /** Wipes a drawn progress line, so that the next line starts clean. */
  private void clearBar() {
    if (drawn) {
      out.print("\r" + " ".repeat(100) + "\r");
      drawn = false;
    }
  }

  static String compact(double perSecond) {
    if (perSecond >= 1e6) {
      return String.format(Locale.ROOT, "%.2fM", perSecond / 1e6);
    }
    if (perSecond >= 1e4) {
      return String.format(Locale.ROOT, "%.0fk", perSecond / 1e3);
    }
    return String.format(Locale.ROOT, "%.0f", perSecond);
  }
}
