package dev.anvil.core.plane;

import dev.anvil.core.train.BlockPlan;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLContext;

/**
 * W data-plane servers on 127.0.0.1 and one group per worker, with gradients whose tree sums depend
 * on the order of additions (values spread over many binary orders of magnitude).
 */
public final class PlaneCrew implements AutoCloseable {
  public final ReductionTree tree;
  public final List<List<TreeNode>> plan;
  public final int length;
  public final List<PlaneServer> servers = new ArrayList<>();
  public final List<PlaneGroup> groups = new ArrayList<>();

  /** The observer's group, after {@link #openObserved}. */
  public PlaneGroup observer;

  private final ExecutorService threads;

  /** Servers for {@code workers} workers; {@link #open} connects them. */
  public PlaneCrew(int leaves, int workers, int length, List<SSLContext> tls) throws IOException {
    this.tree = new ReductionTree(leaves);
    this.plan = BlockPlan.balanced(tree, workers);
    this.length = length;
    for (int w = 0; w < plan.size(); w++) {
      servers.add(
          PlaneServer.start(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
              tls == null ? null : tls.get(w)));
    }
    this.threads = Executors.newCachedThreadPool();
  }

  public List<InetSocketAddress> addresses() {
    return servers.stream().map(PlaneServer::address).toList();
  }

  /** Opens every member's group for {@code epoch}, each on its own thread. */
  public PlaneCrew open(String jobId, long epoch) throws Exception {
    return open(jobId, epoch, addresses());
  }

  /**
   * Opens the observer's group on {@code on} (its own server), then every member's, which send it
   * their slices; the observer is the crew's {@link #observer}.
   */
  public PlaneCrew openObserved(String jobId, long epoch, PlaneServer on) throws Exception {
    observer = PlaneGroup.observe(on, jobId, epoch, tree, plan, length);
    List<InetSocketAddress> members = new ArrayList<>(addresses());
    members.add(on.address());
    return open(jobId, epoch, members);
  }

  private PlaneCrew open(String jobId, long epoch, List<InetSocketAddress> members)
      throws Exception {
    List<Future<PlaneGroup>> opened = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    for (int w = 0; w < plan.size(); w++) {
      int self = w;
      opened.add(
          threads.submit(
              () ->
                  PlaneGroup.open(
                      servers.get(self),
                      jobId,
                      epoch,
                      self,
                      members,
                      tree,
                      plan,
                      length,
                      deadline)));
    }
    for (Future<PlaneGroup> f : opened) {
      groups.add(f.get());
    }
    return this;
  }

  /** The leaf gradients of a round: seeded, with exponents from 2^-20 to 2^20. */
  public float[][] leaves(long seed) {
    Random r = new Random(seed);
    float[][] leaves = new float[tree.leaves()][length];
    for (float[] leaf : leaves) {
      for (int i = 0; i < length; i++) {
        leaf[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(41) - 20));
      }
    }
    return leaves;
  }

  /** The sum of {@code node} over the leaves, as a worker holding it pre-sums it. */
  public GradientSum nodeSum(TreeNode node, float[][] leaves) {
    return tree.reduce(
        node,
        n -> n.level() == 0 ? new GradientSum(leaves[n.index()].clone(), n.index(), 1) : null,
        g -> {});
  }

  /** Worker {@code w}'s node sums for a round. */
  public List<GradientSum> own(int w, float[][] leaves) {
    return plan.get(w).stream().map(n -> nodeSum(n, leaves)).toList();
  }

  /** The whole tree's sum as the coordinator computes it from the workers' node sums. */
  public GradientSum expected(float[][] leaves) {
    List<TreeNode> all = plan.stream().flatMap(List::stream).toList();
    return tree.reduce(n -> all.contains(n) ? nodeSum(n, leaves) : null);
  }

  /** Runs {@code task} for every worker on its own thread; the results by worker. */
  public <T> List<Future<T>> each(WorkerTask<T> task) {
    List<Future<T>> out = new ArrayList<>();
    for (int w = 0; w < plan.size(); w++) {
      int self = w;
      out.add(threads.submit(() -> task.run(self)));
    }
    return out;
  }

  /** Work for one worker. */
  @FunctionalInterface
  public interface WorkerTask<T> {
    T run(int worker) throws Exception;
  }

  @Override
  public void close() {
    groups.forEach(PlaneGroup::close);
    if (observer != null) {
      observer.close();
    }
    servers.forEach(PlaneServer::close);
    threads.shutdownNow();
  }
}
