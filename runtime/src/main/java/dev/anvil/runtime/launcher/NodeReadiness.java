package dev.anvil.runtime.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits until a local cluster's nodes are up by incarnation (the live process's member, Up,
 * reachable) and every member has seen it. Each wait has a deadline and then fails saying what is
 * not up and where the logs are; it fails early, with the node's log, when a node it waits for
 * exits. It polls the client's view of the membership: there is nothing to block on.
 */
final class NodeReadiness {
  private static final Logger log = LoggerFactory.getLogger(NodeReadiness.class);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final int LOG_LINES = 30;

  /** When a wait gives up: {@code timeout} from its start. */
  record Deadline(Duration timeout, long atNanos) {
    static Deadline in(Duration timeout) {
      return new Deadline(timeout, System.nanoTime() + timeout.toNanos());
    }

    boolean passed() {
      return System.nanoTime() > atNanos;
    }

    /** The time left, at least 1 ns. */
    Duration left() {
      return Duration.ofNanos(Math.max(1, atNanos - System.nanoTime()));
    }
  }

  private final NodeJvms nodes;
  private final Path dataDirectory;

  NodeReadiness(NodeJvms nodes, Path dataDirectory) {
    this.nodes = nodes;
    this.dataDirectory = dataDirectory;
  }

  /**
   * Until {@code done} holds, polling; fails with {@code failure} once {@code deadline} has passed.
   * {@code done} may fail early itself.
   */
  static void until(
      Deadline deadline, String what, BooleanSupplier done, Supplier<String> failure) {
    while (!done.getAsBoolean()) {
      if (deadline.passed()) {
        throw new IllegalStateException(failure.get());
      }
      try {
        TimeUnit.NANOSECONDS.sleep(POLL.toNanos()); // polling the membership
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what, e);
      }
    }
  }

  /**
   * Waits until {@code count} nodes are up by incarnation and every member has seen it; fails early
   * if a node from index {@code watchFrom} on exits without the launcher asking.
   */
  void nodesUp(int count, Duration timeout, int watchFrom) {
    until(
        Deadline.in(timeout),
        "the cluster to come up",
        () -> {
          if (nodes.nodesUp() >= count && nodes.converged()) {
            return true;
          }
          for (int i = watchFrom; i < nodes.size(); i++) {
            Process p = nodes.process(i);
            if (!p.isAlive() && !nodes.expectedExit(p)) {
              throw exitedWhile(i, p, "while starting");
            }
          }
          return false;
        },
        () ->
            "the cluster did not come up with "
                + count
                + " nodes within "
                + timeout.toSeconds()
                + " s ("
                + nodes.nodesUp()
                + " up); node logs in "
                + dataDirectory
                + "; node 1's log:\n"
                + tail(0));
    log.info("local cluster up: {} nodes", count);
  }

  /**
   * Waits until each of {@code indexes}, just started again, has a live incarnation up and seen by
   * every member; fails early if one of their processes exits.
   */
  void restarted(List<Integer> indexes, Duration timeout) {
    until(
        Deadline.in(timeout),
        "restarted nodes to join",
        () -> {
          boolean all = true;
          for (int index : indexes) {
            Process p = nodes.process(index);
            if (!p.isAlive()) {
              throw exitedWhile(index, p, "after its restart");
            }
            all &= nodes.up(index);
          }
          return all && nodes.converged();
        },
        () ->
            "node "
                + (indexes.get(0) + 1)
                + " was started again but is not up in the cluster"
                + " after "
                + timeout.toSeconds()
                + " s; its log ("
                + logFile(indexes.get(0))
                + "):\n"
                + tail(indexes.get(0)));
  }

  private IllegalStateException exitedWhile(int index, Process p, String when) {
    return new IllegalStateException(
        "node "
            + (index + 1)
            + " exited "
            + when
            + " (code "
            + p.exitValue()
            + "); its log ("
            + logFile(index)
            + "):\n"
            + tail(index));
  }

  private Path logFile(int index) {
    return NodeProcesses.logFile(dataDirectory, index);
  }

  private String tail(int index) {
    return NodeProcesses.tailOf(logFile(index), LOG_LINES);
  }
}
