package dev.anvil.coordinator;

import dev.anvil.core.data.Digests;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.train.ClusterFacts;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.TrainingResult;
import java.util.List;

/**
 * What a coordinator counts while a job trains: late, rejected and re-dispatched results, the
 * training time and where each round's time goes, and from them the job's result JSON.
 */
final class JobStats {
  private final RoundTimeSplit split = new RoundTimeSplit();

  /** Rounds summed on the data plane. */
  private long planeRounds;

  private long lateResults;
  private long rejectedResults;
  private int rejectedThisRound;
  private long redispatchedNodes;
  private long undispatched;
  private long trainNanos;
  private long roundStartNanos;
  private long slowestComputeNanos;
  private long slowestArrivalNanos;

  void roundStarted(long nowNanos) {
    roundStartNanos = nowNanos;
    rejectedThisRound = 0;
  }

  /** Nanoseconds since the current round was sent. */
  long roundNanos(long nowNanos) {
    return nowNanos - roundStartNanos;
  }

  /** A result was accepted at {@code nowNanos}; the worker computed for {@code computeNanos}. */
  void accepted(long nowNanos, long computeNanos) {
    long arrival = nowNanos - roundStartNanos;
    if (arrival > slowestArrivalNanos) {
      slowestArrivalNanos = arrival;
      slowestComputeNanos = computeNanos;
    }
  }

  /** The round completed at {@code endNanos}; returns its wall time. */
  long roundDone(long endNanos, long reduceNanos, long updateNanos) {
    long wall = endNanos - roundStartNanos;
    split.round(
        wall,
        slowestComputeNanos,
        slowestArrivalNanos - slowestComputeNanos,
        reduceNanos,
        updateNanos);
    slowestArrivalNanos = 0;
    slowestComputeNanos = 0;
    trainNanos += wall;
    return wall;
  }

  /** A round was summed on the data plane. */
  void planeRound() {
    planeRounds++;
  }

  void late() {
    lateResults++;
  }

  /** A result was rejected: how many were this round. */
  int rejected() {
    rejectedResults++;
    return ++rejectedThisRound;
  }

  void redispatched(int nodes) {
    redispatchedNodes += nodes;
  }

  /** A result nobody was sent was dropped: whether it is the first (logged once). */
  boolean undispatched() {
    return undispatched++ == 0;
  }

  void journalWrite(long nanos) {
    split.journalWrite(nanos);
  }

  long trainNanos() {
    return trainNanos;
  }

  /**
   * The result of a finished job: its spec, the prepared job, the final parameters, the workers and
   * nodes of the last assignment, the history, and how this incarnation got there (rounds it
   * computed, not restored, count for the throughput).
   */
  String resultJson(
      JobSpec spec,
      PreparedJob job,
      float[] params,
      int workers,
      int nodes,
      List<EpochReport> history,
      double wallSeconds,
      long computedRounds,
      long epoch,
      List<Recovery> recoveries) {
    EpochReport last = history.get(history.size() - 1);
    double trainSeconds = trainNanos / 1e9;
    return new TrainingResult(
            spec.name(),
            job.model().describe(),
            spec.seed(),
            job.kernel().name(),
            job.stackReport().summary(),
            job.totalRounds(),
            (double) job.totalRounds() / job.roundsPerEpoch(),
            spec.logicalShards(),
            spec.batchSize(),
            workers,
            nodes,
            last.trainLoss(),
            last.testAccuracy(),
            last.testLoss(),
            Digests.sha256(params),
            job.dataFingerprint(),
            wallSeconds,
            trainSeconds,
            computedRounds * spec.batchSize() / trainSeconds,
            history,
            new ClusterFacts(
                split.meansMs(),
                epoch,
                lateResults,
                rejectedResults,
                redispatchedNodes,
                recoveries,
                planeRounds))
        .toJson();
  }
}
