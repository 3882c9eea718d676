package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import java.util.List;

/**
 * One fault on resolved targets: {@link #inject} breaks something, {@link #heal} mends it (a killed
 * node starts again, a paused one resumes, cut links are restored). Both return a line saying what
 * they did, and throw when they could not. Created when its time comes, so that targets such as
 * "the coordinator's node" are resolved against the cluster as it is then.
 */
public interface Fault {
  /** The fault's type as scenario files name it ("kill-node", "partition", ...). */
  String type();

  /** What it hits, in words ("node 2 (127.0.0.1:40211)", "the database"). */
  String target();

  /** The nodes it acts on, by index (empty when it acts on no node in particular). */
  default List<Integer> nodes() {
    return List.of();
  }

  String inject(ChaosCluster cluster);

  String heal(ChaosCluster cluster);

  /**
   * When the fault struck, if that is not when {@link #inject} began (a compound fault that waits
   * for its moment): epoch milliseconds, or -1.
   */
  default long struckAtMillis() {
    return -1;
  }

  /** The round committed when it struck, if {@link #struckAtMillis} says when. */
  default long struckAtRound() {
    return -1;
  }
}
