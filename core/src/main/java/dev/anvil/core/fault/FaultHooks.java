package dev.anvil.core.fault;

import java.util.Objects;

/**
 * The hook through which a fault injector reaches into the workers and coordinators of this JVM
 * (Anvil's chaos module implements it; production modules never depend on it). Every method has a
 * no-op default, and {@link #NONE} is installed unless something installs another: a worker asks
 * the hook at each request, a coordinator at each checkpoint write, and does what it says.
 *
 * <p>Implementations are called on worker threads, concurrently: they must be thread-safe and quick
 * (anything slow belongs in {@link #stallMillis}, which the worker sleeps for).
 */
public interface FaultHooks {
  /** The hook that injects nothing. */
  FaultHooks NONE = new FaultHooks() {};

  /** What to do with a compute request when it arrives at a worker. */
  enum Delivery {
    DELIVER,
    DROP,
    DELAY
  }

  /** Whether a request for {@code round} of {@code jobId} reaching {@code worker} is delivered. */
  default Delivery delivery(String jobId, long round, String worker) {
    return Delivery.DELIVER;
  }

  /** How long a delayed request is held back before the worker sees it. */
  default long delayMillis(String jobId, long round, String worker) {
    return 0;
  }

  /**
   * Milliseconds the worker stalls before computing a round's work, all its tree nodes in one
   * stacked pass (a straggler); 0: none.
   */
  default long stallMillis(String jobId, long round, String worker) {
    return 0;
  }

  /**
   * The gradient sum the worker sends for a tree node: the computed one, or a corruption of it
   * (non-finite values, a wrong length). Must not modify {@code computed}.
   */
  default float[] gradient(String jobId, long round, String worker, float[] computed) {
    return computed;
  }

  /**
   * Milliseconds the checkpoint writer stalls before it stores the checkpoint of {@code round} (so
   * that a crash can be timed to land during the write); 0: none.
   */
  default long checkpointStallMillis(String jobId, long round) {
    return 0;
  }

  /**
   * Holds the calling thread for {@code millis} (0 or less: returns at once), as a stall asked for
   * by {@link #stallMillis} or {@link #checkpointStallMillis}: the thread is busy, as on a slow
   * machine. An interrupt ends the stall early and stays set.
   */
  static void stall(long millis) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The hook installed in this JVM. */
  static FaultHooks installed() {
    return Installed.hook;
  }

  /** Installs {@code hook} for every worker of this JVM; {@link #NONE} removes it. */
  static void install(FaultHooks hook) {
    Installed.hook = Objects.requireNonNull(hook, "hook");
  }

  /** Holder of the installed hook. */
  final class Installed {
    private static volatile FaultHooks hook = NONE;

    private Installed() {}
  }
}
