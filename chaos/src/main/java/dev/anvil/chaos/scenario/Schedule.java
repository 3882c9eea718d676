package dev.anvil.chaos.scenario;

import dev.anvil.core.random.SplitMix64;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A scenario's faults planned on its node count, expanded into single injections, each due at a
 * committed round or at a time after the job started. Random times come from the scenario's seed
 * alone: the same seed gives the same schedule.
 */
public final class Schedule {
  private Schedule() {}

  /**
   * One injection: fault entry {@code plan} (its index in the scenario), occurrence {@code n}, due
   * at round {@code round} (if > 0) or {@code atMillis} after the start.
   */
  public record Injection(int plan, int n, long round, long atMillis) {
    public boolean byRound() {
      return round > 0;
    }

    /** The seed for this injection's own choices (its target). */
    public long seed(long scenarioSeed) {
      return SplitMix64.derive(scenarioSeed, 7, plan, n);
    }
  }

  /** The injections of {@code s} for a job of {@code jobRounds} rounds (for at-progress). */
  public static List<Injection> of(Scenario s, long jobRounds) {
    List<Injection> out = new ArrayList<>();
    for (int i = 0; i < s.faults().size(); i++) {
      if (!s.faults().get(i).appliesTo(s.nodes())) {
        continue;
      }
      Trigger t = s.faults().get(i).trigger();
      if (t instanceof Trigger.AtRound r) {
        out.add(new Injection(i, 0, r.round(), 0));
      } else if (t instanceof Trigger.AtProgress p) {
        out.add(new Injection(i, 0, p.round(jobRounds), 0));
      } else if (t instanceof Trigger.AtTime a) {
        out.add(new Injection(i, 0, 0, a.after().toMillis()));
      } else if (t instanceof Trigger.Every e) {
        for (int n = 0; n < e.times(); n++) {
          out.add(new Injection(i, n, 0, e.start().toMillis() + n * e.interval().toMillis()));
        }
      } else if (t instanceof Trigger.Random r) {
        double at = r.start().toMillis();
        for (int n = 0; n < r.times(); n++) {
          long bits = SplitMix64.derive(s.seed(), 3, i, n);
          double u = ((bits >>> 11) + 1) * 0x1.0p-53; // in (0, 1]
          at += -StrictMath.log(u) * r.meanInterval().toMillis();
          out.add(new Injection(i, n, 0, Math.round(at)));
        }
      }
    }
    out.sort(
        Comparator.comparingLong(Injection::atMillis)
            .thenComparingLong(Injection::round)
            .thenComparingInt(Injection::plan)
            .thenComparingInt(Injection::n));
    return out;
  }
}
