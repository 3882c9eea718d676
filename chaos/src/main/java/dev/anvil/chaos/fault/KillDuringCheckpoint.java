package dev.anvil.chaos.fault;

import dev.anvil.chaos.ChaosCluster;
import dev.anvil.chaos.agent.NodeFaults;
import dev.anvil.runtime.launcher.FollowedJob;
import java.time.Duration;
import java.util.List;

/**
 * SIGKILL of the coordinator's node while it writes a checkpoint: the node's checkpoint writes are
 * held up (its chaos agent) until the next checkpoint round has passed, so the kill lands after the
 * checkpoint was taken and before it is stored. Recovery must fall back to the checkpoint before
 * it. Healed by starting the node again.
 */
public final class KillDuringCheckpoint extends OnNodes {
  private final int node;
  private final FollowedJob job;
  private final int every;
  private final Duration stall;
  private final Duration restartTimeout;
  private long killedAt = -1;
  private long roundAtKill = -1;

  public KillDuringCheckpoint(
      ChaosCluster cluster,
      FollowedJob job,
      int node,
      int every,
      Duration stall,
      Duration restartTimeout) {
    super(cluster, "kill-during-checkpoint", List.of(node));
    if (every <= 0) {
      throw new IllegalArgumentException(
          "kill-during-checkpoint needs a job that checkpoints"
              + " (job.checkpoint.every-rounds > 0)");
    }
    this.node = node;
    this.job = job;
    this.every = every;
    this.stall = stall;
    this.restartTimeout = restartTimeout;
  }

  @Override
  public String inject(ChaosCluster cluster) {
    cluster.applyFaults(node, NodeFaults.NONE.withCheckpointStall(stall.toMillis()));
    long checkpoint = (job.round() / every + 1) * every;
    try {
      if (!job.awaitRound(r -> r > checkpoint, stall.dividedBy(2))) {
        throw new IllegalStateException(
            "round "
                + (checkpoint + 1)
                + " not committed within "
                + stall.dividedBy(2).toMillis()
                + " ms; the checkpoint write may be over");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    roundAtKill = job.round();
    killedAt = System.currentTimeMillis();
    cluster.kill(node);
    return "SIGKILL with the checkpoint of round "
        + checkpoint
        + " being written (held "
        + stall.toMillis()
        + " ms); round "
        + job.round()
        + " heard";
  }

  @Override
  public long struckAtMillis() {
    return killedAt;
  }

  @Override
  public long struckAtRound() {
    return roundAtKill;
  }

  @Override
  public String heal(ChaosCluster cluster) {
    cluster.restart(List.of(node), restartTimeout);
    return "restarted";
  }
}
