package dev.anvil.core.train;

import dev.anvil.core.data.Digests;

/**
 * The canary: SHA-256 of logical shard 0's gradient sum in round 0 from the initial parameters. Two
 * machines that compute the same canary load the same data and compute the same bits; the
 * coordinator refuses a worker whose canary differs from its own.
 */
public final class Canary {
  private Canary() {}

  public static String of(PreparedJob job) {
    TrainingState initial = job.initialState();
    ShardComputer computer =
        new ShardComputer(job, new GradientBuffers(job.model().parameterCount(), 1));
    return Digests.sha256(computer.shard(initial.params(), 0, 0).grad());
  }
}
