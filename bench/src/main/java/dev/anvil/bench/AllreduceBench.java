package dev.anvil.bench;

import com.sun.management.ThreadMXBean;
import dev.anvil.core.plane.PlaneGroup;
import dev.anvil.core.plane.PlaneServer;
import dev.anvil.core.train.BlockPlan;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import dev.anvil.runtime.tls.ClusterCa;
import dev.anvil.runtime.tls.TlsFiles;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLContext;

/**
 * The data plane's allreduce alone: W workers (threads of this JVM, each with its own {@link
 * PlaneServer} on 127.0.0.1) sum one node each of the cluster benchmark's models (16 logical
 * shards, 2 workers: 8 shards a node) for N rounds, over plain TCP and over the cluster's mutual
 * TLS, interleaved, R repeats. Reported per model and transport, medians over the repeats of: the
 * round's allreduce (the slowest worker's, from entering {@code allreduce} to its return; the first
 * 20 rounds are warm-up), the bytes a worker sends per round against {@code 2(W-1)/W x 4P}, and the
 * bytes allocated per round by every thread of the JVM.
 *
 * <p>Usage: {@code AllreduceBench [--workers W (2)] [--rounds N (200)] [--repeats R (5)]}.
 */
public final class AllreduceBench {
  private static final int WARMUP = 20;
  private static final int SHARDS = 16;
  private static final int[] SMALL = {784, 128, 10};
  private static final int[] LARGE = {784, 1024, 1024, 10};

  private AllreduceBench() {}

  public static void main(String[] args) throws Exception {
    int workers = intArg(args, "--workers", 2);
    int rounds = intArg(args, "--rounds", 200);
    int repeats = intArg(args, "--repeats", 5);
    Path tlsDir = Files.createTempDirectory("anvil-allreduce-bench");
    ClusterCa ca = ClusterCa.create("allreduce bench", Duration.ofDays(1));
    List<SSLContext> tls = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      Path folder = tlsDir.resolve("member-" + w);
      ca.issue("member-" + w, List.of("127.0.0.1"), List.of(), Duration.ofDays(1)).save(folder);
      tls.add(TlsFiles.sslContext(folder));
    }
    List<String> rows = new ArrayList<>();
    List<List<double[]>> results = new ArrayList<>();
    for (int[] layers : List.of(SMALL, LARGE)) {
      for (boolean secure : new boolean[] {false, true}) {
        rows.add(describe(layers) + (secure ? " tls" : " tcp"));
        results.add(new ArrayList<>());
      }
    }
    for (int r = 1; r <= repeats; r++) {
      int row = 0;
      for (int[] layers : List.of(SMALL, LARGE)) {
        for (boolean secure : new boolean[] {false, true}) {
          double[] m = run(parameters(layers), workers, rounds, secure ? tls : null, r);
          results.get(row).add(m);
          System.out.printf(
              Locale.ROOT,
              "rep %d/%d  %-22s allreduce %.3f ms (p90 %.3f)  sent %.0f B/round  alloc %.0f"
                  + " B/round%n",
              r,
              repeats,
              rows.get(row),
              m[0],
              m[1],
              m[2],
              m[3]);
          row++;
        }
      }
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "medians over %d repeats, %d workers:%n", repeats, workers);
    for (int row = 0; row < rows.size(); row++) {
      List<double[]> rs = results.get(row);
      int p = parameters(row < 2 ? SMALL : LARGE);
      System.out.printf(
          Locale.ROOT,
          "%-22s P %,d  allreduce %.3f ms  p90 %.3f ms  sent %,.0f B/round (2(W-1)/W x 4P = %,.0f)"
              + "  alloc %,.0f B/round%n",
          rows.get(row),
          p,
          median(rs, 0),
          median(rs, 1),
          median(rs, 2),
          2.0 * (workers - 1) / workers * 4 * p,
          median(rs, 3));
    }
  }

  /** One run: {median ms, p90 ms, bytes sent per worker per round, bytes allocated per round}. */
  private static double[] run(int length, int workers, int rounds, List<SSLContext> tls, int seed)
      throws Exception {
    ReductionTree tree = new ReductionTree(SHARDS);
    List<List<TreeNode>> plan = BlockPlan.balanced(tree, workers);
    List<PlaneServer> servers = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      servers.add(
          PlaneServer.start(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
              tls == null ? null : tls.get(w)));
    }
    List<InetSocketAddress> members = servers.stream().map(PlaneServer::address).toList();
    ExecutorService threads = Executors.newFixedThreadPool(workers);
    long[][] nanos = new long[workers][rounds];
    long[] sent = new long[workers];
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      List<Future<PlaneGroup>> opening = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        int self = w;
        opening.add(
            threads.submit(
                () ->
                    PlaneGroup.open(
                        servers.get(self),
                        "bench",
                        seed,
                        self,
                        members,
                        tree,
                        plan,
                        length,
                        deadline)));
      }
      List<PlaneGroup> groups = new ArrayList<>();
      for (Future<PlaneGroup> f : opening) {
        groups.add(f.get());
      }
      long allocatedBefore = Long.MAX_VALUE;
      List<Future<Long>> running = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        int self = w;
        running.add(
            threads.submit(
                () -> rounds(groups.get(self), plan.get(self).size(), length, nanos[self], seed)));
      }
      for (Future<Long> f : running) {
        allocatedBefore = Math.min(allocatedBefore, f.get()); // the first to end its warm-up
      }
      long allocatedAfter = allocated();
      for (int w = 0; w < workers; w++) {
        sent[w] = groups.get(w).bytesSent();
        groups.get(w).close();
      }
      double[] perRound = new double[rounds - WARMUP];
      for (int i = WARMUP; i < rounds; i++) {
        long slowest = 0;
        for (int w = 0; w < workers; w++) {
          slowest = Math.max(slowest, nanos[w][i]);
        }
        perRound[i - WARMUP] = slowest / 1e6;
      }
      Arrays.sort(perRound);
      return new double[] {
        perRound[perRound.length / 2],
        perRound[perRound.length * 9 / 10],
        (double) sent[0] / rounds,
        (double) (allocatedAfter - allocatedBefore) / (rounds - WARMUP)
      };
    } finally {
      servers.forEach(PlaneServer::close);
      threads.shutdownNow();
    }
  }

  /** A worker's rounds; returns the JVM's allocated bytes when its warm-up ended. */
  private static long rounds(PlaneGroup g, int nodes, int length, long[] nanos, int seed) {
    Random random = new Random(seed * 31L + g.self());
    List<GradientSum> own = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      float[] grad = new float[length];
      for (int j = 0; j < length; j++) {
        grad[j] = (float) random.nextGaussian();
      }
      own.add(new GradientSum(grad, 1.0, 128));
    }
    float[] out = new float[length];
    long allocated = 0;
    for (int round = 0; round < nanos.length; round++) {
      if (round == WARMUP) {
        allocated = allocated();
      }
      long start = System.nanoTime();
      g.allreduce(round + 1, own, out, start + Duration.ofSeconds(30).toNanos());
      nanos[round] = System.nanoTime() - start;
    }
    return allocated;
  }

  /** Bytes allocated so far by every live thread of this JVM. */
  private static long allocated() {
    ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long total = 0;
    for (long a : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) {
      total += Math.max(0, a);
    }
    return total;
  }

  private static int parameters(int[] layers) {
    int p = 0;
    for (int i = 1; i < layers.length; i++) {
      p += layers[i - 1] * layers[i] + layers[i];
    }
    return p;
  }

  private static String describe(int[] layers) {
    return (layers.length == 3 ? "small " : "large ") + Arrays.toString(layers).replace(" ", "");
  }

  private static double median(List<double[]> runs, int i) {
    return Stats.median(runs.stream().map(r -> r[i]).toList());
  }

  private static int intArg(String[] args, String name, int fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        try {
          int v = Integer.parseInt(args[i + 1]);
          if (v > 0 && (!name.equals("--rounds") || v > WARMUP)) {
            return v;
          }
        } catch (NumberFormatException e) {
          // reported below
        }
        throw new IllegalArgumentException(
            name + " must be a whole number above " + (name.equals("--rounds") ? WARMUP : 0));
      }
    }
    return fallback;
  }
}
