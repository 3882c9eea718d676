package dev.anvil.coordinator;

import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Where a round's wall time goes, summed over a job and reported as means (ms a round): {@code
 * compute} is the slowest worker's own compute time, {@code transfer} the rest of that worker's
 * turnaround (serialization, network, deserialization, queueing), {@code reduce} and {@code update}
 * the coordinator's work; {@code journalWrite} is a write's latency, off the critical path (a write
 * carries every round completed while the previous one was in flight).
 */
final class RoundTimeSplit {
  private long rounds;
  private long wall;
  private long compute;
  private long transfer;
  private long reduce;
  private long update;
  private long writes;
  private long journal;

  void round(
      long wallNanos, long computeNanos, long transferNanos, long reduceNanos, long updateNanos) {
    rounds++;
    wall += wallNanos;
    compute += computeNanos;
    transfer += transferNanos;
    reduce += reduceNanos;
    update += updateNanos;
  }

  void journalWrite(long nanos) {
    writes++;
    journal += nanos;
  }

  SortedMap<String, Double> meansMs() {
    SortedMap<String, Double> m = new TreeMap<>();
    m.put("round", ms(wall, rounds));
    m.put("compute", ms(compute, rounds));
    m.put("transfer", ms(transfer, rounds));
    m.put("reduce", ms(reduce, rounds));
    m.put("update", ms(update, rounds));
    m.put("journalWrite", ms(journal, writes));
    m.put("roundsPerJournalWrite", writes == 0 ? 0.0 : (double) rounds / writes);
    return m;
  }

  private static double ms(long nanos, long count) {
    return count == 0 ? 0.0 : Math.round(nanos / 1e3 / count) / 1e3;
  }
}
