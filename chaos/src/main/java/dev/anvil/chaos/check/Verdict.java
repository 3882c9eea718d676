package dev.anvil.chaos.check;

import java.util.List;
import java.util.SortedMap;

/**
 * The checker's judgement of one chaos run.
 *
 * @param valid TRUE when every invariant held, FALSE when one was broken, UNKNOWN when the run
 *     cannot be judged (the job did not end, a fault could not be injected or never fired)
 * @param problems why FALSE or UNKNOWN, one line each
 * @param roundsExpected rounds the job has
 * @param roundsCommitted distinct rounds the journal holds
 * @param lost rounds 1..expected the journal does not hold
 * @param duplicated rounds the journal holds more than once
 * @param outOfOrder rounds that did not follow the round before them in the journal
 * @param singleWriterViolations events written by an epoch older than one already started
 * @param faults per fault type: injected, healed, survived (a round committed after it)
 * @param recoveries per injected fault: milliseconds from injection to the next committed round
 * @param paramsSha256 the run's final parameters, or null when it did not finish
 * @param referenceSha256 the fault-free reference's
 * @param rejectedResults bad results the coordinator rejected (never applied)
 * @param failure the job's failure, or null
 * @param workersWanted the workers the job was submitted with (-1: not known)
 * @param workersAtEnd the workers of its last round (-1: not known)
 * @param rejoins nodes started again whose workers came back into the job
 */
public record Verdict(
    Validity valid,
    List<String> problems,
    long roundsExpected,
    long roundsCommitted,
    long lost,
    long duplicated,
    long outOfOrder,
    long singleWriterViolations,
    SortedMap<String, FaultCount> faults,
    List<RecoveryTime> recoveries,
    String paramsSha256,
    String referenceSha256,
    long rejectedResults,
    String failure,
    int workersWanted,
    int workersAtEnd,
    List<Rejoin> rejoins) {

  /** Jepsen's three answers. */
  public enum Validity {
    TRUE,
    FALSE,
    UNKNOWN
  }

  /** How one fault type fared. */
  public record FaultCount(long injected, long healed, long survived) {}

  /**
   * One injected fault: {@code millis} from its injection to the next round committed after it (-1
   * when none followed); the span it was active (to its heal; -1: never healed); and the longest
   * time without a newly committed round that began while it was active ({@code stallMillis}: what
   * a fault that lets in-flight rounds finish first, such as a database outage, really costs).
   */
  public record RecoveryTime(
      String fault,
      String target,
      long injectedAtMillis,
      long millis,
      long activeMillis,
      long stallMillis) {}

  /**
   * A node started again whose workers the coordinator put back into the job: {@code node}
   * (host:port), {@code restartedAtMillis} (when its new process started) and {@code millis} (from
   * then to the first committed round that used its workers).
   */
  public record Rejoin(String node, long restartedAtMillis, long millis) {}

  public Verdict {
    rejoins = List.copyOf(rejoins);
    problems = List.copyOf(problems);
    recoveries = List.copyOf(recoveries);
    faults = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(faults));
  }

  public boolean hashEqual() {
    return paramsSha256 != null && paramsSha256.equals(referenceSha256);
  }
}
