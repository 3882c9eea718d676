package dev.anvil.bench;

import dev.anvil.bench.ClusterCheckpointCost.Run;
import dev.anvil.bench.DirectCheckpointCost.Times;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * CheckpointBench's summary: the direct cost table (with torch.save), the training-time table and
 * the verdict on each target of the issue (snapshot and incremental every 50: overhead under 2%;
 * every mode: extra training time per checkpoint under 2 rounds).
 */
final class CheckpointReport {
  private final List<String> verdicts = new ArrayList<>();
  private boolean allMet = true;

  private CheckpointReport() {}

  static void printDirect(
      CheckpointBenchOptions o,
      Map<BenchModel, DirectCheckpointCost.Result> direct,
      Map<BenchModel, TorchSaveCost.Result> torch) {
    if (direct.isEmpty()) {
      return;
    }
    Console.say("");
    Console.say("Direct cost, medians of %d reps, ms", o.directReps());
    Console.say(
        "%-6s %10s %11s %7s %9s %8s %8s %7s %7s | %9s %9s %10s",
        "model",
        "params",
        "ckpt bytes",
        "copy",
        "enc+sha",
        "write",
        "total",
        "(send)",
        "(file)",
        "torch mem",
        "torch fil",
        "torch fsync");
    direct.forEach(
        (m, d) -> {
          Times s = d.snapshot();
          TorchSaveCost.Result t = torch.getOrDefault(m, TorchSaveCost.Result.none("not run"));
          Console.say(
              "%-6s %,10d %,11d %7.3f %9.3f %8.3f %8.3f %7.3f %7.3f | %9s %9s %10s",
              m.name(),
              d.params(),
              d.bytes(),
              s.median("copy"),
              s.median("encode"),
              s.median("write"),
              s.median("total"),
              s.median("send"),
              s.median("file"),
              t.measured() ? fmt(t.bytesio()) : "-",
              t.measured() ? fmt(t.file()) : "-",
              t.measured() ? fmt(t.fileSync()) : "-");
        });
    Console.say(
        "(snapshot: copy = TrainingState.copy() on the coordinator's thread; enc+sha ="
            + " CheckpointFormat.encodeWithChecksum, encode + SHA-256 in one pass; write ="
            + " CheckpointStore.write; enc+sha and write run off the coordinator's thread; (send) ="
            + " the bytes sent as a query parameter, nothing stored, not in total; (file) ="
            + " CheckpointStore.write with anvil.checkpoint.directory: file written, forced,"
            + " renamed, plus its row without bytes. torch ="
            + " torch.save(model + optimizer state_dict) to BytesIO / file / file + fsync)");
    Console.say(
        "%-6s %12s %8s %10s %7s %12s %12s",
        "model", "bytes/round", "clone", "1 round", "batch", "batch write", "ms/round");
    direct.forEach(
        (m, d) -> {
          Times g = d.gradients();
          Console.say(
              "%-6s %,12d %8.3f %10.3f %7d %12.3f %12.3f",
              m.name(),
              d.gradientBytes(),
              g.median("clone"),
              g.median("one"),
              d.batch(),
              g.median("batch"),
              g.median("batch") / d.batch());
        });
    Console.say(
        "(incremental, every round: clone = the gradient's copy on the coordinator's"
            + " thread; 1 round / batch write = CheckpointStore.writeGradients of 1 / batch rounds,"
            + " off the coordinator's thread, before the rounds are journaled)");
  }

  static void printOverhead(CheckpointBenchOptions o, Map<BenchModel, List<Run>> runs) {
    if (runs.isEmpty()) {
      return;
    }
    Console.say("");
    Console.say(
        "Training time, medians over %d interleaved repeats (trainSeconds = sum of round"
            + " times)",
        o.repeats());
    Console.say(
        "%-6s %-14s %8s %9s %9s %9s %6s %11s %9s %10s %9s",
        "model",
        "mode",
        "rounds",
        "train s",
        "overhead",
        "paired",
        "ckpts",
        "extra/ckpt",
        "in rnds",
        "extra/rnd",
        "write ms");
    CheckpointReport report = new CheckpointReport();
    runs.forEach(report::printModel);
    Console.say(
        "(overhead = (median K - median none) / median none; paired = median over"
            + " repeats of (K - none) / none of the same repeat; ckpts = median checkpoints written"
            + " per run; extra/ckpt = (median K - median none) / ckpts, ms and median rounds of the"
            + " none runs; extra/rnd = (median K - median none) / rounds, ms; write ms = the"
            + " coordinator's encode + write of a checkpoint, median over the mode's runs, estimated"
            + " from the buckets of the nodes' /metrics anvil_checkpoint_write_time_seconds)");
    Console.say("");
    report.verdicts.forEach(v -> Console.say("target %s", v));
    Console.say("ALL TARGETS: %s", report.allMet ? "MET" : "NOT MET");
  }

  private void printModel(BenchModel m, List<Run> all) {
    double none = medianTrain(all, CheckpointMode.NONE);
    double round =
        Stats.median(
            all.stream()
                .filter(r -> r.mode().equals(CheckpointMode.NONE))
                .map(r -> 1000 * r.trainSeconds() / r.rounds())
                .toList());
    for (CheckpointMode mode : CheckpointMode.MEASURED) {
      printMode(m, mode, all, none, round);
    }
    TreeSet<String> hashes = new TreeSet<>();
    all.forEach(r -> hashes.add(String.valueOf(r.hash())));
    Console.say(
        "%-6s none runs %s s; median round %.3f ms; params hash equal in every run: %s",
        m.name(),
        Console.list(
            all.stream()
                .filter(r -> r.mode().equals(CheckpointMode.NONE))
                .map(Run::trainSeconds)
                .toList(),
            "%.3f"),
        round,
        hashes.size() == 1 ? "yes, " + Console.shortHash(hashes.first()) : "NO " + hashes);
  }

  /** One mode's row, its paired differences and its verdicts. */
  private void printMode(
      BenchModel m, CheckpointMode mode, List<Run> all, double none, double round) {
    double med = medianTrain(all, mode);
    List<Run> ok = all.stream().filter(r -> r.mode().equals(mode) && r.ok()).toList();
    double ckpts = Stats.median(ok.stream().map(r -> (double) r.checkpoints().written()).toList());
    double writeMs =
        CheckpointMeters.sum(ok.stream().map(Run::checkpoints).toList()).writeMsQuantile(0.5);
    double overhead = (med - none) / none;
    double extraMs = ckpts > 0 ? 1000 * (med - none) / ckpts : Double.NaN;
    boolean k = mode.checkpoints();
    Console.say(
        "%-6s %-14s %8d %9.3f %9s %9s %6s %11s %9s %10s %9s",
        m.name(),
        mode.label(),
        m.rounds(),
        med,
        k ? pct(overhead) : "-",
        k ? pct(Stats.median(paired(all, mode))) : "-",
        k ? String.format(Locale.ROOT, "%.0f", ckpts) : "-",
        k ? fmt(extraMs) : "-",
        k ? String.format(Locale.ROOT, "%.2f", extraMs / round) : "-",
        k ? fmt(1000 * (med - none) / m.rounds()) : "-",
        Double.isNaN(writeMs) ? "-" : String.format(Locale.ROOT, "%.0f", writeMs));
    if (!k) {
      return;
    }
    Console.say(
        "%-21s paired per repeat: %s",
        "",
        "["
            + String.join(" ", paired(all, mode).stream().map(CheckpointReport::pct).toList())
            + "]");
    if (mode.every() == 50) {
      verdict(
          overhead < 0.02,
          overhead,
          String.format(
              Locale.ROOT,
              "%s %s: overhead %s (target < 2%%)",
              m.name(),
              mode.label(),
              pct(overhead)));
    }
    verdict(
        extraMs < 2 * round,
        extraMs,
        String.format(
            Locale.ROOT,
            "%s %s: extra training"
                + " time per checkpoint %s ms = %.2f rounds of %.3f ms (target < 2 rounds)",
            m.name(),
            mode.label(),
            fmt(extraMs),
            extraMs / round,
            round));
  }

  private void verdict(boolean ok, double figure, String what) {
    allMet &= ok;
    verdicts.add(what + ": " + (Double.isNaN(figure) ? "NOT MEASURED" : ok ? "MET" : "NOT MET"));
  }

  private static double medianTrain(List<Run> runs, CheckpointMode mode) {
    return Stats.median(
        runs.stream().filter(r -> r.mode().equals(mode)).map(Run::trainSeconds).toList());
  }

  /** Each repeat's (K - none) / none, K and none of the same repeat. */
  private static List<Double> paired(List<Run> runs, CheckpointMode mode) {
    List<Double> out = new ArrayList<>();
    for (Run r : runs) {
      for (Run n : runs) {
        if (r.mode().equals(mode) && n.mode().equals(CheckpointMode.NONE) && n.rep() == r.rep()) {
          out.add((r.trainSeconds() - n.trainSeconds()) / n.trainSeconds());
        }
      }
    }
    return out;
  }

  private static String pct(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%+.2f%%", 100 * v);
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
  }
}
