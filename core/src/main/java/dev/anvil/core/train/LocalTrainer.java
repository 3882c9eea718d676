package dev.anvil.core.train;

import dev.anvil.core.data.Digests;
import dev.anvil.core.model.Evaluation;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The single-process reference run: defines the right answer for the distributed system. Each
 * round, {@code workers} threads compute the gradient sums of their blocks of logical shards
 * (each shard alone, single-threaded), the sums are completed in the fixed reduction tree, and
 * the parameters are updated. The result's {@code paramsSha256} does not depend on
 * {@code workers}.
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
    GradientBuffers buffers = new GradientBuffers(job.model().parameterCount(),
        2 * workers + 8);
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
    ExecutorService pool = plan.size() > 1 ? Executors.newFixedThreadPool(plan.size(),
        daemonThreads()) : null;
    try {
      while (state.round() < total) {
        long t0 = System.nanoTime();
        GradientSum sum = computeRound(state, plan, computers, pool, tree, buffers);
        double roundLoss = sum.lossSum() / sum.samples();
        state = update.apply(state, sum);
        buffers.release(sum.grad());
        trainNanos += System.nanoTime() - t0;

        epochLoss += roundLoss;
        epochRounds++;
        long done = state.round();
        listener.roundCommitted(new RoundProgress(done, total, (double) done / perEpoch,
            roundLoss, done * batch / (trainNanos / 1e9)));
        if (done % perEpoch == 0 || done == total) {
          Evaluation test = evaluator.evaluate(state.params());
          EpochReport report = new EpochReport((double) done / perEpoch, done,
              epochLoss / epochRounds, test.meanLoss(),
              job.model().classifier() ? test.accuracy() : null);
          history.add(report);
          listener.epochCompleted(report);
          epochLoss = 0;
          epochRounds = 0;
        }
      }
    } finally {
      if (pool != null) {
        pool.shutdownNow();
      }
    }
    EpochReport last = history.get(history.size() - 1);
    double trainSeconds = trainNanos / 1e9;
    double wall = loadSeconds + (System.nanoTime() - start) / 1e9;
    return new TrainingResult(job.spec().name(), job.model().describe(), job.spec().seed(),
        job.kernel().name(), total, (double) total / perEpoch, job.spec().logicalShards(),
        batch, plan.size(), 1, last.trainLoss(), last.testAccuracy(), last.testLoss(),
        Digests.sha256(state.params()), job.dataFingerprint(), wall, trainSeconds,
        total * batch / trainSeconds, history);
  }

  private static GradientSum computeRound(TrainingState state, List<List<TreeNode>> plan,
      List<ShardComputer> computers, ExecutorService pool, ReductionTree tree,
      GradientBuffers buffers) {
    float[] params = state.params();
    long round = state.round();
    TreeMap<TreeNode, GradientSum> sums = new TreeMap<>();
    if (pool == null) {
      for (TreeNode node : plan.get(0)) {
        sums.put(node, computers.get(0).compute(params, round, node));
      }
    } else {
      List<Future<List<GradientSum>>> futures = new ArrayList<>(plan.size());
      for (int w = 0; w < plan.size(); w++) {
        ShardComputer computer = computers.get(w);
        List<TreeNode> nodes = plan.get(w);
        futures.add(pool.submit(() -> computeAll(computer, params, round, nodes)));
      }
      for (int w = 0; w < plan.size(); w++) {
        List<GradientSum> results = join(futures.get(w));
        List<TreeNode> nodes = plan.get(w);
        for (int i = 0; i < nodes.size(); i++) {
          sums.put(nodes.get(i), results.get(i));
        }
      }
    }
    return tree.reduce(tree.root(), sums::get, buffers::release);
  }

  private static List<GradientSum> computeAll(ShardComputer computer, float[] params,
      long round, List<TreeNode> nodes) {
    List<GradientSum> out = new ArrayList<>(nodes.size());
    for (TreeNode node : nodes) {
      out.add(computer.compute(params, round, node));
    }
    return out;
  }

  private static <T> T join(Future<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while training", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "anvil-shard-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
