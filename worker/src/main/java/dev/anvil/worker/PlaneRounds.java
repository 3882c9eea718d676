package dev.anvil.worker;

import dev.anvil.core.fault.FaultHooks;
import dev.anvil.core.plane.DataPlane;
import dev.anvil.core.plane.PlaneException;
import dev.anvil.core.plane.PlaneGroup;
import dev.anvil.core.plane.PlaneServer;
import dev.anvil.core.protocol.TrainingProtocol.ParamsMissing;
import dev.anvil.core.protocol.TrainingProtocol.PlaneCompute;
import dev.anvil.core.protocol.TrainingProtocol.PlaneDone;
import dev.anvil.core.protocol.TrainingProtocol.PlaneFailed;
import dev.anvil.core.train.DivergedException;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ParameterUpdate;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.ShardComputer;
import dev.anvil.core.train.TrainingState;
import dev.anvil.core.train.TreeNode;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's data-plane rounds of one job (docs/data-plane.md), on a thread of their own so that
 * the worker's actor stays free to hear the coordinator (a new view, a round over Artery, a
 * release), which {@link #stop}s a round waiting on a lost peer at once. The worker keeps its own
 * copy of the training state: the coordinator sends it when a view starts, and each round applies
 * the job's {@link ParameterUpdate} to the allreduced sum, which gives every member (and the
 * coordinator) the same bits.
 */
final class PlaneRounds {
  private static final Logger LOG = LoggerFactory.getLogger(PlaneRounds.class);
  private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(10);

  /**
   * The last resort for a round whose peer vanished without closing its connection (a partition):
   * the coordinator's round deadline normally stops it long before, when it sends the round again
   * over Artery.
   */
  private static final Duration ROUND_TIMEOUT = Duration.ofMinutes(2);

  private final String worker;
  private final PreparedJob job;
  private final ShardComputer computer;
  private final PlaneServer server;
  private final ParameterUpdate update;
  private final ExecutorService thread;
  private final float[] sum;
  private volatile PlaneGroup group;
  private volatile long view = -1;

  /** The newest view whose group ended here: its later rounds fail at once. */
  private volatile long endedView = -1;

  private TrainingState state;
  private Future<?> running = CompletableFuture.completedFuture(null);

  PlaneRounds(String worker, PreparedJob job, ShardComputer computer, PlaneServer server) {
    this.worker = worker;
    this.job = job;
    this.computer = computer;
    this.server = server;
    this.update = job.newParameterUpdate();
    this.sum = new float[job.model().parameterCount()];
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "anvil-plane-rounds-" + worker);
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Why {@code c} cannot be a round of {@code job}, or null: the job's coordinator never sends such
   * a request.
   */
  static String malformed(PlaneCompute c, PreparedJob job) {
    int shards = job.spec().logicalShards();
    int workers = c.planSizes() == null ? 0 : c.planSizes().length;
    if (c.round() < 0 || c.round() >= job.totalRounds() || c.view() < 0) {
      return "a round outside the job's " + job.totalRounds() + " rounds, or a view < 0";
    }
    if (workers < 1 || workers > shards || c.index() < 0 || c.index() >= workers) {
      return "a plan of no workers, more than the job's " + shards + " shards, or no place in it";
    }
    if (c.members() == null || c.members().length != workers + 1) {
      return "not one data-plane address per worker and one for the coordinator";
    }
    if (c.plan() == null || c.plan().length > shards) {
      return "more tree nodes than the job's " + shards + " logical shards";
    }
    if (Arrays.stream(c.planSizes()).anyMatch(n -> n < 1)
        || Arrays.stream(c.planSizes()).sum() != c.plan().length) {
      return "a plan whose sizes do not add up to its nodes";
    }
    boolean[] covered = new boolean[shards];
    for (TreeNode node : c.plan()) {
      if (Worker.outsideTree(node, shards)) {
        return "a tree node outside the job's reduction tree of " + shards + " shards";
      }
      for (int s = node.from(); s < node.to(shards); s++) {
        if (covered[s]) {
          return "a plan that covers a shard twice";
        }
        covered[s] = true;
      }
    }
    for (boolean c2 : covered) {
      if (!c2) {
        return "a plan that leaves a shard out";
      }
    }
    for (String member : c.members()) {
      try {
        DataPlane.parse(member);
      } catch (IllegalArgumentException e) {
        return "a data-plane address that is not host:port";
      }
    }
    return c.state() == null ? null : wrongState(c.state(), job);
  }

  private static String wrongState(TrainingState s, PreparedJob job) {
    int p = job.model().parameterCount();
    TrainingState initial = job.initialState();
    if (s.params() == null || s.params().length != p || s.optimizer() == null) {
      return "a training state of the wrong size (the model has " + p + " parameters)";
    }
    float[][] slots = s.optimizer().slots();
    if (slots == null || slots.length != initial.optimizer().slots().length) {
      return "a training state with the wrong optimizer slots";
    }
    for (float[] slot : slots) {
      if (slot == null || slot.length != p) {
        return "a training state with the wrong optimizer slots";
      }
    }
    return null;
  }

  /** Runs {@code c} after the rounds already handed over; answers {@code c.replyTo()}. */
  void submit(PlaneCompute c) {
    running = thread.submit(() -> run(c));
  }

  private void run(PlaneCompute c) {
    try {
      if (c.state() != null) {
        state = c.state().copy(); // a coordinator in this JVM shares its copy with every worker
      }
      if (state == null || state.round() != c.round()) {
        c.replyTo().tell(new ParamsMissing(c.jobId(), c.epoch(), c.round(), worker));
        return;
      }
      if (c.view() == endedView) {
        fail(c, "view " + c.view() + " already ended on this worker", -1);
        return;
      }
      List<List<TreeNode>> plan = plan(c);
      if (group == null || view != c.view() || !group.isOpen()) {
        closeGroup();
        List<InetSocketAddress> members = Arrays.stream(c.members()).map(DataPlane::parse).toList();
        // Visible to stop() before it connects: a new view's peer may be gone already.
        group =
            PlaneGroup.join(
                server,
                c.jobId(),
                c.view(),
                c.index(),
                members.size(),
                job.tree(),
                plan,
                sum.length);
        view = c.view();
        group.connect(members, System.nanoTime() + OPEN_TIMEOUT.toNanos());
      }
      long start = System.nanoTime();
      FaultHooks faults = FaultHooks.installed();
      FaultHooks.stall(faults.stallMillis(c.jobId(), c.round(), worker)); // a straggler
      List<TreeNode> mine = plan.get(c.index());
      List<GradientSum> own = computer.computeAll(state.params(), c.round(), mine);
      List<GradientSum> sums = new ArrayList<>();
      for (GradientSum s : own) {
        float[] g = faults.gradient(c.jobId(), c.round(), worker, s.grad());
        sums.add(new GradientSum(g, s.lossSum(), s.samples()));
      }
      long computed = System.nanoTime();
      GradientSum total;
      try {
        total = group.allreduce(c.round(), sums, sum, computed + ROUND_TIMEOUT.toNanos());
      } finally {
        own.forEach(s -> computer.release(s.grad())); // copied or sent: reused next round
      }
      long exchanged = System.nanoTime();
      state = update.apply(state, total);
      c.replyTo()
          .tell(
              new PlaneDone(
                  c.jobId(),
                  c.epoch(),
                  c.round(),
                  c.view(),
                  worker,
                  computed - start,
                  exchanged - computed));
    } catch (PlaneException e) {
      fail(c, e.getMessage(), e.peer());
    } catch (DivergedException e) {
      fail(c, e.getMessage(), -1);
    } catch (RuntimeException e) {
      LOG.warn("worker {}: plane round {} of job {} failed", worker, c.round() + 1, c.jobId(), e);
      fail(
          c,
          "the worker failed (" + e.getClass().getSimpleName() + "; its node's log has more)",
          c.index());
    }
  }

  private void fail(PlaneCompute c, String reason, int blamed) {
    closeGroup();
    c.replyTo()
        .tell(new PlaneFailed(c.jobId(), c.epoch(), c.round(), c.view(), worker, reason, blamed));
  }

  private static List<List<TreeNode>> plan(PlaneCompute c) {
    List<List<TreeNode>> plan = new ArrayList<>();
    int at = 0;
    for (int size : c.planSizes()) {
      plan.add(List.of(Arrays.copyOfRange(c.plan(), at, at + size)));
      at += size;
    }
    return plan;
  }

  private void closeGroup() {
    PlaneGroup g = group;
    if (g != null) {
      g.close();
      endedView = Math.max(endedView, view);
    }
    group = null;
    view = -1;
  }

  /**
   * Ends the round in progress, if any (its group is closed, which fails a wait for a peer at
   * once), and waits for it to end, so that the worker's actor can compute over Artery.
   */
  void stop() {
    PlaneGroup g = group;
    if (g != null) {
      endedView = Math.max(endedView, view);
      g.close();
    }
    try {
      running.get(1, TimeUnit.MINUTES);
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("worker {}: a plane round did not end when stopped: {}", worker, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The job is over here: stops and ends the thread. */
  void close() {
    PlaneGroup g = group;
    if (g != null) {
      g.close();
    }
    thread.shutdown();
  }
}
