package dev.anvil.core.plane;

import dev.anvil.core.train.TreeNode;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where one group member's readers put what its peers send in a round: the member's slice of each
 * other worker's tree nodes (reduce-scatter), then each other worker's completed slice (allgather).
 * A frame is taken only for the round that is open, from the peer whose connection it came on, for
 * a node that peer owns, once, with exactly the expected length; anything else fails the group
 * before its payload is read. A peer may be one round ahead: its reader waits for that round to
 * open (the peer's TCP stream waits with it).
 *
 * <p>An observer ({@code self} = W, one past the last worker) owns no slice and no node: it takes
 * only every worker's completed slice, and checks that all of them carry the same loss sum and
 * sample count.
 */
final class Inbox {
  private final long epoch;
  private final int self;
  private final Slices slices;
  private final Map<TreeNode, Integer> nodeIds;
  private final int[] ownerOf;
  private final float[][] parts;
  private final double[] partLoss;
  private final long[] partSamples;
  private final boolean[] partIn;
  private final boolean[] sliceIn;
  private final boolean observer;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long round = -1;
  private float[] out;
  private int partsMissing;
  private int slicesMissing;
  private double sliceLoss;
  private long sliceSamples;
  private int sliceFrom = -1;
  private String failure;
  private int blamed = -1;
  private boolean disagreed;

  /** {@code nodes} lists every group member's tree nodes, {@code nodes.get(w)} worker w's. */
  Inbox(long epoch, int self, Slices slices, List<List<TreeNode>> nodes) {
    this.epoch = epoch;
    this.self = self;
    this.slices = slices;
    this.observer = self == slices.workers();
    this.nodeIds = new java.util.HashMap<>();
    int count = nodes.stream().mapToInt(List::size).sum();
    this.ownerOf = new int[count];
    for (int w = 0; w < nodes.size(); w++) {
      for (TreeNode n : nodes.get(w)) {
        ownerOf[nodeIds.size()] = w;
        nodeIds.put(n, nodeIds.size());
      }
    }
    this.parts = new float[count][slices.size(self)];
    this.partLoss = new double[count];
    this.partSamples = new long[count];
    this.partIn = new boolean[count];
    this.sliceIn = new boolean[slices.workers()];
  }

  /** The slot of {@code node}'s part of this member's slice (the reduction consumes it). */
  float[] part(TreeNode node) {
    return parts[nodeIds.get(node)];
  }

  double partLoss(TreeNode node) {
    return partLoss[nodeIds.get(node)];
  }

  long partSamples(TreeNode node) {
    return partSamples[nodeIds.get(node)];
  }

  /**
   * Opens {@code next}: peers' frames for it are taken from now on, the slices into {@code out}.
   */
  void open(long next, float[] out) {
    lock.lock();
    try {
      throwIfFailed();
      round = next;
      this.out = out;
      java.util.Arrays.fill(partIn, false);
      java.util.Arrays.fill(sliceIn, false);
      partsMissing = 0;
      for (int id = 0; id < ownerOf.length && !observer; id++) {
        if (ownerOf[id] != self) {
          partsMissing++;
        }
      }
      slicesMissing = observer ? slices.workers() : slices.workers() - 1;
      sliceFrom = -1;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Records this member's own node part, already copied into {@link #part}. */
  void own(TreeNode node, double lossSum, long samples) {
    int id = nodeIds.get(node);
    partLoss[id] = lossSum;
    partSamples[id] = samples;
  }

  /**
   * Where the payload of {@code f}, which came from {@code peer}, goes: waits while the frame is
   * for the next round, then checks it against the open round.
   *
   * @throws PlaneException if the frame is not one the round expects, or the group failed
   */
  Destination accept(int peer, Frame f) {
    lock.lock();
    try {
      while (failure == null && f.epoch() == epoch && (round < 0 || f.round() == round + 1)) {
        changed.awaitUninterruptibly();
      }
      throwIfFailed();
      String wrong = wrong(peer, f);
      if (wrong != null) {
        throw new PlaneException("worker " + peer + " sent a frame " + wrong, peer);
      }
      if (f.kind() == Frame.Kind.PART) {
        int id = nodeIds.get(f.node());
        partIn[id] = true; // claimed now; counted in when its payload is in
        return new Destination(parts[id], 0);
      }
      sliceIn[peer] = true;
      return new Destination(out, slices.from(peer));
    } finally {
      lock.unlock();
    }
  }

  private String wrong(int peer, Frame f) {
    if (f.epoch() != epoch || f.round() != round) {
      return "for epoch "
          + f.epoch()
          + " round "
          + f.round()
          + " in epoch "
          + epoch
          + " round "
          + round;
    }
    if (f.from() != peer) {
      return "naming worker " + f.from() + " as its sender";
    }
    if (f.kind() == Frame.Kind.PART) {
      if (observer) {
        return "with a part, which an observer does not take";
      }
      Integer id = f.node() == null ? null : nodeIds.get(f.node());
      if (id == null || ownerOf[id] != peer) {
        return "with a part of a tree node it does not own";
      }
      if (partIn[id]) {
        return "with a part it already sent";
      }
      return f.count() == slices.size(self) ? null : "with a part of the wrong length";
    }
    if (sliceIn[peer]) {
      return "with a slice it already sent";
    }
    return f.count() == slices.size(peer) ? null : "with a slice of the wrong length";
  }

  /** The payload of {@code f} is in its destination. */
  void delivered(Frame f) {
    lock.lock();
    try {
      if (f.kind() == Frame.Kind.PART) {
        int id = nodeIds.get(f.node());
        partLoss[id] = f.lossSum();
        partSamples[id] = f.samples();
        partsMissing--;
      } else {
        agree(f);
        slicesMissing--;
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Every slice of a round must carry the same totals: the members summed the same tree. */
  private void agree(Frame f) {
    if (sliceFrom < 0) {
      sliceFrom = f.from();
      sliceLoss = f.lossSum();
      sliceSamples = f.samples();
    } else if (Double.doubleToRawLongBits(f.lossSum()) != Double.doubleToRawLongBits(sliceLoss)
        || f.samples() != sliceSamples) {
      disagreed = true;
      blamed = -1;
      failure =
          "round "
              + round
              + ": worker "
              + f.from()
              + " and worker "
              + sliceFrom
              + " report different loss sums or sample counts for the same tree";
    }
  }

  /** The round's loss sum as the slices received carry it (an observer's only source). */
  double sliceLoss() {
    return sliceLoss;
  }

  long sliceSamples() {
    return sliceSamples;
  }

  /** Waits until every peer's part of this member's slice is in. */
  void awaitParts(long deadlineNanos) {
    await(true, deadlineNanos);
  }

  /** Waits until every peer's slice is in. */
  void awaitSlices(long deadlineNanos) {
    await(false, deadlineNanos);
  }

  private void await(boolean parts, long deadlineNanos) {
    lock.lock();
    try {
      while ((parts ? partsMissing : slicesMissing) > 0) {
        throwIfFailed();
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          java.util.SortedSet<Integer> late = missing(parts);
          throw new PlaneException(
              "round "
                  + round
                  + ": no "
                  + (parts ? "reduce-scatter part" : "allgather slice")
                  + " from worker(s) "
                  + late
                  + " before the deadline",
              late.size() == 1 ? late.first() : -1);
        }
        changed.await(left, TimeUnit.NANOSECONDS);
      }
      // Everything is in: a peer that closed since (its round is done too) changes nothing,
      // but slices that disagree do.
      if (disagreed) {
        throwIfFailed();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PlaneException("round " + round + ": interrupted while waiting for peers", -1, e);
    } finally {
      lock.unlock();
    }
  }

  private java.util.SortedSet<Integer> missing(boolean parts) {
    java.util.SortedSet<Integer> peers = new java.util.TreeSet<>();
    for (int id = 0; id < ownerOf.length; id++) {
      if (parts && ownerOf[id] != self && !partIn[id]) {
        peers.add(ownerOf[id]);
      }
    }
    for (int w = 0; !parts && w < sliceIn.length; w++) {
      if (w != self && !sliceIn[w]) {
        peers.add(w);
      }
    }
    return peers;
  }

  /**
   * Fails the group: every wait, now and later, throws {@code why}, pointing at worker {@code peer}
   * (-1: none). The first reason stays.
   */
  void fail(String why, int peer) {
    lock.lock();
    try {
      if (failure == null) {
        failure = why;
        blamed = peer;
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The worker the first failure pointed at; -1 when none. */
  int blamed() {
    lock.lock();
    try {
      return blamed;
    } finally {
      lock.unlock();
    }
  }

  String failure() {
    lock.lock();
    try {
      return failure;
    } finally {
      lock.unlock();
    }
  }

  private void throwIfFailed() {
    if (failure != null) {
      throw new PlaneException(failure, blamed);
    }
  }

  /** Where a frame's floats go. */
  record Destination(float[] array, int offset) {}
}
