package dev.anvil.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * ClusterThroughputBench's summary: the samples/s table (medians, ratios to DDP, efficiency =
 * cluster/local), the cluster's round time split, the hash agreement of cluster and reference, and
 * the verdict on each target (cluster at least as fast as DDP on both models, efficiency of the
 * large model at least 0.80, bitwise agreement); with the figure formats its per-run lines share.
 */
final class ThroughputReport {
  private ThroughputReport() {}

  /** Prints the summary of {@code repeats} repeats; {@code ddp}: whether DDP was measured. */
  static void print(int repeats, ThroughputRow small, ThroughputRow large, boolean ddp) {
    Console.say("");
    printRates(repeats, small, large);
    Console.say("");
    printSplits(small, large);
    Console.say("");
    printHashes(small, large);
    Console.say("");
    printTargets(small, large, ddp);
  }

  private static void printRates(int repeats, ThroughputRow small, ThroughputRow large) {
    Console.say(
        "Medians of %d repeats, samples/s (training rounds only, evaluation excluded)", repeats);
    Console.say(
        "%-6s %14s %14s %14s %15s %12s %17s",
        "model",
        "anvil-cluster",
        "anvil-local",
        "ddp",
        "cluster/ddp",
        "efficiency",
        "cluster/ddp pairs");
    for (ThroughputRow row : List.of(small, large)) {
      double c = Stats.median(row.cluster());
      double l = Stats.median(row.local());
      double d = Stats.median(row.ddp());
      Console.say(
          "%-6s %14s %14s %14s %15s %12s %17s",
          row.model(),
          Console.rate(c),
          Console.rate(l),
          Console.rate(d),
          ratio(c / d),
          efficiency(c / l),
          ratio(Stats.median(perRepeat(row.cluster(), row.ddp()))));
    }
    Console.say(
        "(cluster/ddp and efficiency = cluster/local: ratios of the medians; cluster/ddp pairs:"
            + " median of the per-repeat ratios; efficiency per repeat: small %s, large %s)",
        efficiencies(perRepeat(small.cluster(), small.local())),
        efficiencies(perRepeat(large.cluster(), large.local())));
  }

  private static void printSplits(ThroughputRow small, ThroughputRow large) {
    Console.say(
        "Cluster round time split, median over repeats, mean ms per round"
            + " (other = round - compute - transfer - reduce - update)");
    Console.say(
        "%-6s %8s %8s %9s %8s %8s %8s %13s %10s | %10s %10s",
        "model",
        "round",
        "compute",
        "transfer",
        "reduce",
        "update",
        "other",
        "journalWrite",
        "rnds/write",
        "local rnd",
        "ddp step");
    for (ThroughputRow row : List.of(small, large)) {
      Map<String, Double> m = new TreeMap<>();
      for (String key : ThroughputRuns.SPLIT_KEYS) {
        List<Double> values = new ArrayList<>();
        row.splits().forEach(s -> values.add(s.get(key)));
        m.put(key, Stats.median(values));
      }
      double other =
          m.get("round") - m.get("compute") - m.get("transfer") - m.get("reduce") - m.get("update");
      Console.say(
          "%-6s %8.3f %8.3f %9.3f %8.3f %8.3f %8.3f %13.3f %10.1f | %10.3f %10.3f",
          row.model(),
          m.get("round"),
          m.get("compute"),
          m.get("transfer"),
          m.get("reduce"),
          m.get("update"),
          other,
          m.get("journalWrite"),
          m.get("roundsPerJournalWrite"),
          256e3 / Stats.median(row.local()),
          256e3 / Stats.median(row.ddp()));
    }
    Console.say(
        "(local rnd: ms per round of anvil-local, 256e3 / its median samples/s; ddp step: the"
            + " same for ddp)");
  }

  private static void printHashes(ThroughputRow small, ThroughputRow large) {
    for (ThroughputRow row : List.of(small, large)) {
      if (row.hashProblems().isEmpty() && row.hashes().size() == 1) {
        Console.say(
            "%s: cluster and reference paramsSha256 equal in every repeat: %s",
            row.model(), row.hashes().iterator().next());
      } else {
        Console.say(
            "%s: paramsSha256 PROBLEM: %s; distinct hashes %s",
            row.model(), row.hashProblems(), row.hashes());
      }
    }
  }

  private static void printTargets(ThroughputRow small, ThroughputRow large, boolean ddp) {
    boolean hashesOk = small.hashProblems().isEmpty() && large.hashProblems().isEmpty();
    if (!ddp) {
      Console.say("targets: ddp not measured, cluster/ddp targets cannot be checked");
    }
    double rs = Stats.median(small.cluster()) / Stats.median(small.ddp());
    double rl = Stats.median(large.cluster()) / Stats.median(large.ddp());
    double eff = Stats.median(large.cluster()) / Stats.median(large.local());
    Console.say("target cluster >= 1.00x ddp, small: %s, %s", ratio(rs), met(rs, rs >= 1.0));
    Console.say("target cluster >= 1.00x ddp, large: %s, %s", ratio(rl), met(rl, rl >= 1.0));
    Console.say(
        "target efficiency >= 0.80, large:   %s, %s", efficiency(eff), met(eff, eff >= 0.8));
    Console.say("bitwise agreement cluster = reference: %s", hashesOk ? "yes" : "NO");
    Console.say("ALL TARGETS: %s", met(rs >= 1.0 && rl >= 1.0 && eff >= 0.8 && hashesOk));
  }

  /** The local run's short hash and whether it equals the cluster's (null: the cluster failed). */
  static String hashCheck(String cluster, String local) {
    if (cluster == null) {
      return Console.shortHash(local) + " (cluster failed)";
    }
    return Console.shortHash(local)
        + (cluster.equals(local)
            ? " (= cluster)"
            : " (!= cluster " + Console.shortHash(cluster) + ", MISMATCH)");
  }

  /** A cluster result's round time split in one line ("n/a" for none). */
  static String splitLine(Map<String, Double> s) {
    if (s == null) {
      return "n/a";
    }
    return String.format(
        Locale.ROOT,
        "round %.3f = compute %.3f + transfer %.3f + reduce %.3f"
            + " + update %.3f ms; journal %.2f ms / %.0f rounds",
        s.get("round"),
        s.get("compute"),
        s.get("transfer"),
        s.get("reduce"),
        s.get("update"),
        s.get("journalWrite"),
        s.get("roundsPerJournalWrite"));
  }

  static String efficiency(double e) {
    return Double.isNaN(e) || Double.isInfinite(e) ? "n/a" : String.format(Locale.ROOT, "%.2f", e);
  }

  /** A test accuracy ("n/a" for NaN). */
  static String acc(double a) {
    return Double.isNaN(a) ? "n/a" : String.format(Locale.ROOT, "%.4f", a);
  }

  private static String met(boolean ok) {
    return ok ? "MET" : "NOT MET";
  }

  private static String met(double figure, boolean ok) {
    return Double.isNaN(figure) ? "NOT MEASURED" : met(ok);
  }

  private static List<Double> perRepeat(List<Double> a, List<Double> b) {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      out.add(a.get(i) / b.get(i));
    }
    return out;
  }

  private static String efficiencies(List<Double> rs) {
    List<String> out = new ArrayList<>();
    rs.forEach(r -> out.add(efficiency(r)));
    return "[" + String.join(" ", out) + "]";
  }

  private static String ratio(double r) {
    return Double.isNaN(r) || Double.isInfinite(r) ? "n/a" : String.format(Locale.ROOT, "%.2fx", r);
  }
}
