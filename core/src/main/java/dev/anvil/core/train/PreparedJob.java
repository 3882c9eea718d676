package dev.anvil.core.train;

import dev.anvil.core.data.DataLoader;
import dev.anvil.core.data.TrainTestData;
import dev.anvil.core.kernel.Kernel;
import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.model.Model;
import dev.anvil.core.model.Models;
import dev.anvil.core.optim.LearningRateSchedule;
import dev.anvil.core.optim.Optimizer;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.Problem;
import dev.anvil.core.spec.SpecRules;
import java.util.List;

/**
 * A job ready to train: its spec, data, model, sampler and reduction tree, all checked against each
 * other. The same preparation runs on the reference trainer and on every cluster node, so its
 * outputs ({@link #dataFingerprint()}, the kernel) can be compared between them.
 */
public final class PreparedJob {
  private final JobSpec spec;
  private final TrainTestData data;
  private final Kernel kernel;
  private final Model model;
  private final ShardSampler sampler;
  private final ReductionTree tree;
  private final long totalRounds;
  private final String dataFingerprint;
  private volatile StackReport stackReport;

  private PreparedJob(
      JobSpec spec, TrainTestData data, Kernel kernel, Model model, ShardSampler sampler) {
    this.spec = spec;
    this.data = data;
    this.kernel = kernel;
    this.model = model;
    this.sampler = sampler;
    this.tree = new ReductionTree(spec.logicalShards());
    this.totalRounds = spec.length().totalRounds(sampler.roundsPerEpoch());
    this.dataFingerprint = data.train().fingerprint();
  }

  /** Loads the data, builds the model and checks sizes; {@code origin} names the spec in errors. */
  public static PreparedJob prepare(JobSpec spec, String origin) {
    return prepare(spec, origin, SpecRules.defaults());
  }

  /** Loads the job's data and builds its model, within the size limits of {@code rules}. */
  public static PreparedJob prepare(JobSpec spec, String origin, SpecRules rules) {
    TrainTestData data = DataLoader.loadShared(spec.data(), spec.seed());
    return prepare(spec, data, origin, rules);
  }

  public static PreparedJob prepare(JobSpec spec, TrainTestData data, String origin) {
    return prepare(spec, data, origin, SpecRules.defaults());
  }

  public static PreparedJob prepare(
      JobSpec spec, TrainTestData data, String origin, SpecRules rules) {
    Kernel kernel = Kernels.select(spec.kernel());
    Model model = Models.create(spec.model(), data.shape(), kernel, origin, rules.maxParameters());
    ShardSampler sampler =
        new ShardSampler(
            spec.seed(), data.train().rows(), spec.logicalShards(), spec.perShardBatch());
    if (sampler.roundsPerEpoch() == 0) {
      int smallest = data.train().rows() / spec.logicalShards();
      throw new JobSpecException(
          origin,
          List.of(
              new Problem(
                  "job.batch-size",
                  String.valueOf(spec.batchSize()),
                  "too large for the data: each of the "
                      + spec.logicalShards()
                      + " logical shards holds about "
                      + smallest
                      + " training samples, fewer than its "
                      + spec.perShardBatch()
                      + " samples a round; lower job.batch-size or job.logical-shards")));
    }
    return new PreparedJob(spec, data, kernel, model, sampler);
  }

  public JobSpec spec() {
    return spec;
  }

  public TrainTestData data() {
    return data;
  }

  public Kernel kernel() {
    return kernel;
  }

  public Model model() {
    return model;
  }

  public ShardSampler sampler() {
    return sampler;
  }

  public ReductionTree tree() {
    return tree;
  }

  public long totalRounds() {
    return totalRounds;
  }

  public long roundsPerEpoch() {
    return sampler.roundsPerEpoch();
  }

  public String dataFingerprint() {
    return dataFingerprint;
  }

  /** Which stacked heights this job may run on this machine ({@link StackGuard}, run once). */
  public StackReport stackReport() {
    StackReport r = stackReport;
    if (r == null) {
      synchronized (this) {
        if (stackReport == null) {
          stackReport = StackGuard.check(this);
        }
        r = stackReport;
      }
    }
    return r;
  }

  /** Parameters and optimizer state before round 0. */
  public TrainingState initialState() {
    float[] params = new float[model.parameterCount()];
    model.initialize(params, spec.seed());
    return new TrainingState(0, params, newOptimizer().initialState(params.length));
  }

  public Optimizer newOptimizer() {
    return Optimizer.create(spec.optimizer());
  }

  public ParameterUpdate newParameterUpdate() {
    return new ParameterUpdate(
        newOptimizer(),
        new LearningRateSchedule(
            spec.schedule(),
            spec.optimizer().learningRate(),
            totalRounds,
            sampler.roundsPerEpoch()),
        spec.clipNorm(),
        spec.batchSize());
  }
}
