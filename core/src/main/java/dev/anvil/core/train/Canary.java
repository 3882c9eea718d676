package dev.anvil.core.train;

import dev.anvil.core.data.Digests;

/**
 * The canary: SHA-256 of logical shard 0's gradient sum in round 0 from the initial parameters,
 * computed alone, followed by round 0's sum over all shards as this machine computes a worker's
 * nodes (stacked where {@link StackGuard} allowed it). Two machines that compute the same canary
 * load the same data and compute the same bits on both paths; the coordinator refuses a worker
 * whose canary differs from its own.
 */
public final class Canary {
  private Canary() {}

  public static String of(PreparedJob job) {
    TrainingState initial = job.initialState();
    ShardComputer computer =
        new ShardComputer(job, new GradientBuffers(job.model().parameterCount(), 2));
    float[] shard0 = computer.shard(initial.params(), 0, 0).grad();
    float[] all = computer.compute(initial.params(), 0, job.tree().root()).grad();
    return Digests.sha256().add(shard0).add(all).hex();
  }
}
