package dev.anvil.core.spec;

/**
 * A validated training job: every field has been checked by {@link JobSpecParser}; sizes that
 * depend on the data are checked again by {@code DataShape} once the data is loaded.
 *
 * <p>Invariants: {@code batchSize % logicalShards == 0}, {@code logicalShards > 0}, the learning
 * rate is finite and positive, {@code clipNorm >= 0} (0 = off).
 */
public record JobSpec(
    String name,
    long seed,
    ModelSpec model,
    DataSpec data,
    OptimizerSpec optimizer,
    ScheduleSpec schedule,
    double clipNorm,
    int batchSize,
    int logicalShards,
    TrainingLength length,
    KernelChoice kernel,
    CheckpointSpec checkpoint) {

  /** Samples each logical shard contributes to a round. */
  public int perShardBatch() {
    return batchSize / logicalShards;
  }

  public JobSpec withSeed(long newSeed) {
    return new JobSpec(
        name,
        newSeed,
        model,
        data,
        optimizer,
        schedule,
        clipNorm,
        batchSize,
        logicalShards,
        length,
        kernel,
        checkpoint);
  }

  public JobSpec withKernel(KernelChoice newKernel) {
    return new JobSpec(
        name,
        seed,
        model,
        data,
        optimizer,
        schedule,
        clipNorm,
        batchSize,
        logicalShards,
        length,
        newKernel,
        checkpoint);
  }

  public JobSpec withLength(TrainingLength newLength) {
    return new JobSpec(
        name,
        seed,
        model,
        data,
        optimizer,
        schedule,
        clipNorm,
        batchSize,
        logicalShards,
        newLength,
        kernel,
        checkpoint);
  }
}
