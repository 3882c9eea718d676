package dev.anvil.runtime.node;

/**
 * What a service embedding Anvil hears about a job it submitted. Every method has an empty default:
 * implement what you need. No argument is ever null.
 *
 * <p><b>Threading.</b> The calls for one job come from that job's follower, an actor of the node's
 * actor system ({@code /system/job-client-<jobId>-...}), on a thread of its default dispatcher
 * ({@code anvil-pekko.actor.default-dispatcher-N}): one call at a time, in the order the updates
 * arrived, each call seeing what the previous one did (no locking needed for state of one job's
 * listener). Listeners of different jobs may be called at the same time from different threads. A
 * call must not block or run long: while it runs, the job's further updates wait, and it holds a
 * thread the node's coordinators and workers' messaging share. Hand slow work (I/O, a database
 * write, waiting on a future) to an executor of the service. An exception thrown by a call is
 * ignored (the first one of a job logged as a warning): the job and the following calls go on.
 *
 * <p>A call is a notification, not a transaction: after a coordinator restarts, progress resumes
 * from the restored checkpoint, so {@link #onProgress} may report a round again.
 */
public interface JobListener {
  JobListener NONE = new JobListener() {};

  /**
   * Rounds 1..round of totalRounds are committed (durable in the journal); {@code loss} is the last
   * round's training loss, {@code samplesPerSecond} the recent throughput.
   */
  default void onProgress(long round, long totalRounds, double loss, double samplesPerSecond) {}

  /**
   * The job's coordinator (re)started on the node at {@code node} ({@code host:port} of that node's
   * cluster port, as {@link AnvilNode#address()} without the system name): once when it starts
   * ({@code recovery} false), again after each recovery from the loss of its node and after a
   * resume ({@code recovery} true).
   */
  default void onCoordinator(String node, boolean recovery) {}

  /**
   * The job recovered from a fault: a lost or late worker's work re-dispatched, its coordinator
   * restarted, the journal back after an outage. {@code recovery} says what, and how long it took
   * (its {@code recoveryMillis()}).
   */
  default void onRecovery(dev.anvil.core.train.Recovery recovery) {}

  /** The journal does not answer: the job waits, and goes on once it does. */
  default void onDegraded(String reason) {}

  /** The job is paused after {@code round}. */
  default void onPaused(long round) {}
}
