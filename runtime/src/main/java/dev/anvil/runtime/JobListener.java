package dev.anvil.runtime;

/**
 * What a service embedding Anvil hears about a job it submitted, on an actor thread (keep it
 * short). Every method has an empty default: implement what you need.
 */
public interface JobListener {
  JobListener NONE = new JobListener() {};

  /** Rounds 1..round of totalRounds are committed (durable in the journal). */
  default void onProgress(long round, long totalRounds, double loss, double samplesPerSecond) {}

  /**
   * The job's coordinator (re)started on the node at {@code node}: once when it starts, again
   * after each recovery from the loss of its node ({@code recovery} true).
   */
  default void onCoordinator(String node, boolean recovery) {}

  /**
   * The job recovered from a fault: a lost or late worker's work re-dispatched, its coordinator
   * restarted, the journal back after an outage. {@code recovery} says what, and how long it
   * took (its {@code recoveryMillis()}).
   */
  default void onRecovery(dev.anvil.core.train.Recovery recovery) {}

  /** The journal does not answer: the job waits, and goes on once it does. */
  default void onDegraded(String reason) {}

  /** The job is paused after {@code round}. */
  default void onPaused(long round) {}
}
