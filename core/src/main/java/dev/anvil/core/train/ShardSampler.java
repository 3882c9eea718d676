package dev.anvil.core.train;

import dev.anvil.core.random.SplitMix64;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The sampling contract (docs/determinism.md): which training samples each logical shard uses in
 * each round, a pure function of (job seed, number of samples, logical shards, batch size).
 *
 * <ul>
 *   <li>Samples are dealt to shards through a permutation seeded by the job seed: position i of the
 *       permutation goes to shard {@code i mod L}, so shard sizes differ by at most one and a
 *       class-sorted file still gives mixed shards.
 *   <li>Each epoch, each shard shuffles its own samples with a seed derived from (job seed, shard,
 *       epoch).
 *   <li>Round r (0-based) is step {@code r mod R} of epoch {@code r / R}, where R, the rounds per
 *       epoch, is the smallest shard's size divided by the per-shard batch, rounded down. A shard's
 *       minibatch is the next per-shard batch of its epoch order; leftovers are skipped.
 * </ul>
 *
 * Thread-safe: shards may be sampled concurrently.
 */
public final class ShardSampler {
  static final long SHARD_ASSIGNMENT = 0x5A3D_0001L;
  static final long SHARD_EPOCH = 0x5A3D_0002L;

  private final long seed;
  private final int perShardBatch;
  private final int[][] members;
  private final long roundsPerEpoch;
  private final AtomicReferenceArray<EpochOrder> cache;

  private record EpochOrder(long epoch, int[] order) {}

  public ShardSampler(long seed, int samples, int logicalShards, int perShardBatch) {
    this.seed = seed;
    this.perShardBatch = perShardBatch;
    int[] permutation = new int[samples];
    for (int i = 0; i < samples; i++) {
      permutation[i] = i;
    }
    new SplitMix64(SplitMix64.derive(seed, SHARD_ASSIGNMENT)).shuffle(permutation);
    this.members = new int[logicalShards][];
    int smallest = Integer.MAX_VALUE;
    for (int s = 0; s < logicalShards; s++) {
      int size = samples / logicalShards + (s < samples % logicalShards ? 1 : 0);
      members[s] = new int[size];
      for (int i = 0; i < size; i++) {
        members[s][i] = permutation[s + i * logicalShards];
      }
      smallest = Math.min(smallest, size);
    }
    this.roundsPerEpoch = smallest / perShardBatch;
    this.cache = new AtomicReferenceArray<>(logicalShards);
  }

  /** Rounds in one epoch; 0 when a shard holds fewer samples than the per-shard batch. */
  public long roundsPerEpoch() {
    return roundsPerEpoch;
  }

  public int logicalShards() {
    return members.length;
  }

  public int perShardBatch() {
    return perShardBatch;
  }

  /**
   * The order of shard {@code shard}'s samples in {@code epoch}; round {@code r}'s minibatch is
   * {@code order[step * b .. (step + 1) * b)} with {@code step = r mod R}. Do not modify.
   */
  public int[] epochOrder(int shard, long epoch) {
    EpochOrder cached = cache.get(shard);
    if (cached != null && cached.epoch == epoch) {
      return cached.order;
    }
    int[] order = members[shard].clone();
    new SplitMix64(SplitMix64.derive(seed, SHARD_EPOCH, shard, epoch)).shuffle(order);
    cache.set(shard, new EpochOrder(epoch, order));
    return order;
  }

  /** Epoch of 0-based round {@code round}. */
  public long epochOf(long round) {
    return round / roundsPerEpoch;
  }

  /** Offset of round {@code round}'s minibatch within its epoch order. */
  public int offsetOf(long round) {
    return (int) (round % roundsPerEpoch) * perShardBatch;
  }

  /** The sample indices of shard {@code shard} in 0-based round {@code round} (a new array). */
  public int[] minibatch(int shard, long round) {
    int[] order = epochOrder(shard, epochOf(round));
    int from = offsetOf(round);
    int[] out = new int[perShardBatch];
    System.arraycopy(order, from, out, 0, perShardBatch);
    return out;
  }
}
