package dev.anvil.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.data.TrainTestData;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.launcher.LocalCluster;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs ClusterThroughputBench's jobs in its three configurations (the cluster, the local reference
 * trainer, PyTorch DDP when {@code peer} is not null), says each run's figures and adds them to the
 * model's {@link ThroughputRow}. A cluster run that ends without a result is remembered, so that
 * the node logs can be kept.
 */
final class ThroughputRuns {
  static final int WORKERS = 2;
  private static final long JOB_TIMEOUT_MINUTES = 30;

  /** The keys of a result's {@code roundTimeSplitMs}, in the order they are reported. */
  static final List<String> SPLIT_KEYS =
      List.of(
          "round",
          "compute",
          "transfer",
          "reduce",
          "update",
          "journalWrite",
          "roundsPerJournalWrite");

  /** One run's figures; hash null when the run failed. */
  private record Result(double sps, double accuracy, String hash, Map<String, Double> split) {}

  private final LocalCluster cluster;
  private final TrainTestData data;
  private final DdpPeer peer;
  private int jobCounter;
  private boolean clusterFailed;

  ThroughputRuns(LocalCluster cluster, TrainTestData data, DdpPeer peer) {
    this.cluster = cluster;
    this.data = data;
    this.peer = peer;
  }

  /** Whether a cluster job ended without a result. */
  boolean clusterFailed() {
    return clusterFailed;
  }

  /** Runs {@code spec} untimed on the cluster and locally; says the rates and the hash check. */
  void warmUp(ThroughputRow row, JobSpec spec) {
    Result c = runCluster(spec);
    Result l = runLocal(spec);
    Console.say(
        "warm-up  %-5s cluster %s  local %s  params %s",
        row.model(),
        Console.rate(c.sps()),
        Console.rate(l.sps()),
        ThroughputReport.hashCheck(c.hash(), l.hash()));
    clusterFailed |= c.hash() == null;
  }

  /**
   * Repeat {@code tag} of {@code row}: {@code spec} on the cluster, then locally (whose hash must
   * equal the cluster's), then DDP for {@code ddpEpochs} epochs when there is a peer.
   */
  void measure(String tag, ThroughputRow row, JobSpec spec, int ddpEpochs) {
    Result c = runCluster(spec);
    clusterFailed |= c.hash() == null;
    row.cluster().add(c.sps());
    if (c.split() != null) {
      row.splits().add(c.split());
    }
    Console.say(
        "%s  %-5s anvil-cluster %s  acc %s  params %s  split %s",
        tag,
        row.model(),
        Console.rate(c.sps()),
        ThroughputReport.acc(c.accuracy()),
        Console.shortHash(c.hash()),
        ThroughputReport.splitLine(c.split()));
    Result l = runLocal(spec);
    row.local().add(l.sps());
    String check = ThroughputReport.hashCheck(c.hash(), l.hash());
    if (!check.contains("(= cluster)")) {
      row.hashProblems().add(tag + ": " + check);
    }
    row.hashes().add(String.valueOf(c.hash()));
    row.hashes().add(String.valueOf(l.hash()));
    Console.say(
        "%s  %-5s anvil-local   %s  acc %s  params %s  efficiency %s",
        tag,
        row.model(),
        Console.rate(l.sps()),
        ThroughputReport.acc(l.accuracy()),
        check,
        ThroughputReport.efficiency(c.sps() / l.sps()));
    if (peer != null) {
      runDdp(tag, row, ddpEpochs);
    }
  }

  private Result runCluster(JobSpec spec) {
    String jobId =
        String.format(
            Locale.ROOT, "%s-%d-%d", spec.name(), ++jobCounter, ProcessHandle.current().pid());
    JsonNode r = ClusterJobs.run(cluster, jobId, spec, WORKERS, JOB_TIMEOUT_MINUTES);
    if (r == null) {
      return new Result(Double.NaN, Double.NaN, null, null);
    }
    Map<String, Double> split = null;
    if (r.hasNonNull("roundTimeSplitMs")) {
      split = new LinkedHashMap<>();
      for (String key : SPLIT_KEYS) {
        split.put(key, r.path("roundTimeSplitMs").path(key).asDouble(Double.NaN));
      }
    }
    double accuracy = r.hasNonNull("testAccuracy") ? r.get("testAccuracy").asDouble() : Double.NaN;
    return new Result(
        r.path("samplesPerSecond").asDouble(Double.NaN),
        accuracy,
        r.path("paramsSha256").asText(null),
        split);
  }

  private Result runLocal(JobSpec spec) {
    System.gc();
    PreparedJob job = PreparedJob.prepare(spec, data, "bench");
    TrainingResult r = new LocalTrainer(job, WORKERS, TrainingListener.NONE).run(0.0);
    return new Result(
        r.samplesPerSecond(),
        r.testAccuracy() == null ? Double.NaN : r.testAccuracy(),
        r.paramsSha256(),
        null);
  }

  private void runDdp(String tag, ThroughputRow row, int epochs) {
    try {
      DdpPeer.Run r = peer.train(row.model(), epochs);
      double sps = r.epoch(epochs);
      row.ddp().add(sps);
      Console.say(
          "%s  %-5s ddp           %s  acc %s  epochs %s  step ms: fwd %.3f bwd+allreduce %.3f"
              + " opt %.3f",
          tag,
          row.model(),
          Console.rate(sps),
          ThroughputReport.acc(r.accuracy()),
          Console.rates(r.epochRates()),
          r.fwdMs(),
          r.bwdMs(),
          r.optMs());
    } catch (IOException e) {
      row.ddp().add(Double.NaN);
      Console.say("%s  %-5s ddp           FAILED: %s", tag, row.model(), e.getMessage());
    }
  }
}
