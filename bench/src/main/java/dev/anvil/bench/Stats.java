package dev.anvil.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Small statistics for benchmark tables. */
final class Stats {
  private Stats() {}

  /** The median (mean of the middle two for an even count); NaN for none. */
  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.removeIf(v -> v == null || v.isNaN());
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
