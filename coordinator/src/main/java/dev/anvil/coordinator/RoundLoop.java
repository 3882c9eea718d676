package dev.anvil.coordinator;

import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.train.DivergedException;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ParameterUpdate;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingState;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The training itself: the parameters and optimizer state, the round being gathered, the loss sums
 * of the epoch and the evaluations so far. A complete round is reduced in tree order and applied
 * with core's {@link ParameterUpdate} (the reference trainer's arithmetic), so the bits depend on
 * nothing but the job. Pure.
 */
final class RoundLoop {
  /** What follows a completed round. */
  enum Next {
    /** Stop at this boundary: a pause was asked for. */
    PAUSE,
    /** Wait for the journal: too many rounds are not durable yet. */
    STALL,
    /** Send nothing more: a cancel is being recorded. */
    HOLD,
    ROUND,
    /** Every round is computed: finish once they are durable. */
    FINISH
  }

  /** A completed round: its mean loss, samples, where the time went, the gradient to log. */
  record Step(
      long round,
      double loss,
      long samples,
      long reduceNanos,
      long updateNanos,
      RoundGradient logged) {}

  private final PreparedJob job;
  private final ParameterUpdate update;
  private TrainingState state;
  private RoundState round;

  /** The gathered round was applied; it is not stepped again (results for it are late). */
  private boolean applied;

  private double lastLoss = Double.NaN;
  private double trainingEpochLossSum;
  private long trainingEpochRounds;
  private final List<EpochReport> history = new ArrayList<>();

  RoundLoop(PreparedJob job) {
    this.job = job;
    this.update = job.newParameterUpdate();
    this.state = job.initialState();
  }

  /**
   * What follows round {@code done}: a pause once the replay is over, a stall while the journal is
   * {@code tooFarAhead} (new rounds only, and never after the last: nothing would lift it, and
   * finishing waits for the journal anyway), nothing while {@code cancelled}, else the next round
   * or the end.
   */
  static Next next(
      long done,
      long total,
      long replayUntil,
      boolean pauseRequested,
      boolean tooFarAhead,
      boolean cancelled) {
    if (pauseRequested && done >= replayUntil && done < total) {
      return Next.PAUSE;
    } else if (done > replayUntil && done < total && tooFarAhead) {
      return Next.STALL;
    } else if (cancelled) {
      return Next.HOLD;
    }
    return done < total ? Next.ROUND : Next.FINISH;
  }

  PreparedJob job() {
    return job;
  }

  TrainingState state() {
    return state;
  }

  /** Rounds completed. */
  long done() {
    return state.round();
  }

  boolean finished() {
    return state.round() >= job.totalRounds();
  }

  /** The round gathered last: being gathered, or complete (and then perhaps applied). */
  RoundState round() {
    return round;
  }

  /**
   * Whether the gathered round covers every shard and was not applied yet: step it now. A complete
   * round stays gathered until the next starts (a stall, a cancel), and a late result for it (a
   * duplicate of re-dispatched work) must not apply it twice.
   */
  boolean complete() {
    return !applied && round.complete();
  }

  double lastLoss() {
    return lastLoss;
  }

  List<EpochReport> history() {
    return List.copyOf(history);
  }

  /** Continues from checkpoint {@code c}. */
  void restore(Checkpoint c) {
    state = c.state();
    lastLoss = c.loss();
    history.clear();
    history.addAll(c.history());
    trainingEpochLossSum = c.epochLossSum();
    trainingEpochRounds = c.epochRounds();
  }

  /** Applies a logged round's gradient (no recomputation). */
  void replay(RoundGradient g) throws DivergedException {
    state = update.apply(state, new GradientSum(g.gradient(), g.lossSum(), g.samples()));
    counted(g.lossSum() / g.samples());
  }

  /** Starts gathering the next round's results. */
  void startRound() {
    round = RoundState.start(state.round(), job.spec().logicalShards());
    applied = false;
  }

  /** Takes a result of a worker into the round; how it was taken. */
  RoundState.Outcome accept(NodeResult n) {
    RoundState.Acceptance a =
        round.accept(n.round(), n.node(), new GradientSum(n.grad(), n.lossSum(), n.samples()));
    round = a.state();
    return a.outcome();
  }

  /** Takes the whole round's sum, as the data plane's observer received it, into the round. */
  RoundState.Outcome acceptSum(long resultRound, GradientSum total) {
    RoundState.Acceptance a = round.accept(resultRound, job.tree().root(), total);
    round = a.state();
    return a.outcome();
  }

  /**
   * Reduces the round and applies it; only when {@link #complete()}. {@code log}: keep a copy of
   * the reduced sum for the gradient log (the step consumes the sum: it becomes the mean).
   */
  Step step(boolean log) throws DivergedException {
    if (!complete()) {
      throw new IllegalStateException(
          applied
              ? "round " + state.round() + " was applied" + " already"
              : "round " + (state.round() + 1) + " is not complete");
    }
    applied = true; // the reduction adds into the results' arrays: they cannot be reduced again
    long reduceStart = System.nanoTime();
    GradientSum total = round.reduce(job.tree());
    long updateStart = System.nanoTime();
    double loss = total.lossSum() / total.samples();
    RoundGradient logged =
        log
            ? new RoundGradient(
                state.round() + 1, total.grad().clone(), total.lossSum(), total.samples())
            : null;
    state = update.apply(state, total);
    lastLoss = loss;
    return new Step(
        state.round(),
        loss,
        total.samples(),
        updateStart - reduceStart,
        System.nanoTime() - updateStart,
        logged);
  }

  /** Counts a completed round's loss in the epoch's mean. */
  void counted(double loss) {
    lastLoss = loss;
    trainingEpochLossSum += loss;
    trainingEpochRounds++;
  }

  /** Whether the round just completed ends an epoch (or the job): evaluate then. */
  boolean evaluationDue() {
    long done = state.round();
    return done % job.roundsPerEpoch() == 0 || done == job.totalRounds();
  }

  /** The epoch's mean training loss, starting the next epoch's sum. */
  double takeTrainingEpochLoss() {
    double mean = trainingEpochLossSum / trainingEpochRounds;
    trainingEpochLossSum = 0;
    trainingEpochRounds = 0;
    return mean;
  }

  /** A copy of this round boundary's state, for a checkpoint. */
  CheckpointPipeline.Captured capture() {
    return new CheckpointPipeline.Captured(
        state.copy(), lastLoss, trainingEpochLossSum, trainingEpochRounds);
  }

  void evaluated(EpochReport report) {
    history.add(report);
    history.sort(Comparator.comparingLong(EpochReport::round));
  }

  /** The evaluations up to {@code round}, for its checkpoint. */
  List<EpochReport> historyThrough(long round) {
    return history.stream().filter(h -> h.round() <= round).toList();
  }
}
