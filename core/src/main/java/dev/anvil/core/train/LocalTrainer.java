package dev.anvil.core.train;

import dev.anvil.core.data.Digests;
import dev.anvil.core.model.Evaluation;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The single-process reference run: defines the right answer for the distributed system. Each
 * round, {@code workers} threads compute the gradient sums of their blocks of logical shards (each
 * shard alone, single-threaded), the sums are completed in the fixed reduction tree, and the
 * parameters are updated. The result's {@code paramsSha256} does not depend on {@code workers}.
 */
public final class LocalTrainer {
  private final PreparedJob job;
  private final int workers;
  private final TrainingListener listener;

  public LocalTrainer(PreparedJob job, int workers, TrainingListener listener) {
    if (workers <= 0) {
      throw new IllegalArgumentException("workers must be > 0, was " + workers);
    }
    this.job = job;
    this.workers = Math.min(workers, job.spec().logicalShards());
    this.listener = listener;
  }

  /** Trains the whole job; {@code loadSeconds} (data loading before this) is added to wall time. */
  public TrainingResult run(double loadSeconds) {
    long start = System.nanoTime();
    ReductionTree tree = job.tree();
    List<List<TreeNode>> plan = BlockPlan.balanced(tree, workers);
    GradientBuffers buffers = new GradientBuffers(job.model().parameterCount(), 2 * workers + 8);
    List<ShardComputer> computers = new ArrayList<>();
    for (int w = 0; w < plan.size(); w++) {
      computers.add(new ShardComputer(job, buffers));
    }
    Evaluator evaluator = new Evaluator(job.model(), job.data().test());
    ParameterUpdate update = job.newParameterUpdate();
    TrainingState state = job.initialState();
    long total = job.totalRounds();
    long perEpoch = job.roundsPerEpoch();
    int batch = job.spec().batchSize();
    List<EpochReport> history = new ArrayList<>();
    double epochLoss = 0;
    long epochRounds = 0;
    long trainNanos = 0;

    listener.started(job, plan.size());
    try (Crew crew = new Crew(plan.size(), "anvil-shard")) {
      while (state.round() < total) {
        long t0 = System.nanoTime();
        GradientSum sum = computeRound(state, plan, computers, crew, tree, buffers);
        double roundLoss = sum.lossSum() / sum.samples();
        state = update.apply(state, sum, crew);
        buffers.release(sum.grad());
        trainNanos += System.nanoTime() - t0;

        epochLoss += roundLoss;
        epochRounds++;
        long done = state.round();
        listener.roundCommitted(
            new RoundProgress(
                done,
                total,
                (double) done / perEpoch,
                roundLoss,
                done * batch / (trainNanos / 1e9)));
        if (done % perEpoch == 0 || done == total) {
          Evaluation test = evaluator.evaluate(state.params());
          EpochReport report =
              new EpochReport(
                  (double) done / perEpoch,
                  done,
                  epochLoss / epochRounds,
                  test.meanLoss(),
                  job.model().classifier() ? test.accuracy() : null);
          history.add(report);
          listener.epochCompleted(report);
          epochLoss = 0;
          epochRounds = 0;
        }
      }
    }
    EpochReport last = history.get(history.size() - 1);
    double trainSeconds = trainNanos / 1e9;
    double wall = loadSeconds + (System.nanoTime() - start) / 1e9;
    return new TrainingResult(
        job.spec().name(),
        job.model().describe(),
        job.spec().seed(),
        job.kernel().name(),
        job.stackReport().summary(),
        total,
        (double) total / perEpoch,
        job.spec().logicalShards(),
        batch,
        plan.size(),
        1,
        last.trainLoss(),
        last.testAccuracy(),
        last.testLoss(),
        Digests.sha256(state.params()),
        job.dataFingerprint(),
        wall,
        trainSeconds,
        total * batch / trainSeconds,
        history,
        null);
  }

  private static GradientSum computeRound(
      TrainingState state,
      List<List<TreeNode>> plan,
      List<ShardComputer> computers,
      Parallel crew,
      ReductionTree tree,
      GradientBuffers buffers) {
    float[] params = state.params();
    long round = state.round();
    GradientSum[][] results = new GradientSum[plan.size()][];
    crew.forEach(
        plan.size(),
        w -> {
          results[w] =
              computers.get(w).computeAll(params, round, plan.get(w)).toArray(GradientSum[]::new);
        });
    TreeMap<TreeNode, GradientSum> sums = new TreeMap<>();
    for (int w = 0; w < plan.size(); w++) {
      for (int i = 0; i < results[w].length; i++) {
        sums.put(plan.get(w).get(i), results[w][i]);
      }
    }
    return tree.reduce(tree.root(), sums::get, buffers::release);
  }
}
