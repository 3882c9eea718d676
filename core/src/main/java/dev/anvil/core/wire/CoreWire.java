package dev.anvil.core.wire;

import dev.anvil.core.optim.OptimizerState;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.TrainingState;
import dev.anvil.core.train.TreeNode;

/** The core module's wire types (ids 100-199). */
public final class CoreWire implements WireRegistrar {
  static final CoreWire INSTANCE = new CoreWire();
  static final int ACTOR_REF = 110;

  /**
   * Stored inside journal events. Version 2: kind, detail, faultSeenMillis, redispatchedMillis,
   * firstCommitMillis, lastCommitBeforeMillis, redoneRounds, replayMillis, treeNodesRedispatched,
   * lastHeardMillis. Version 1 had no lastHeardMillis: read as 0 (unknown).
   */
  public static final Persisted<Recovery> RECOVERY =
      Persisted.of(
          Recovery.class,
          2,
          (k, out, r) -> {
            Persisted.writeString(k, out, r.kind());
            Persisted.writeString(k, out, r.detail());
            out.writeVarLong(r.faultSeenMillis(), true);
            out.writeVarLong(r.redispatchedMillis(), true);
            out.writeVarLong(r.firstCommitMillis(), true);
            out.writeVarLong(r.lastCommitBeforeMillis(), true);
            out.writeVarLong(r.redoneRounds(), true);
            out.writeVarLong(r.replayMillis(), true);
            out.writeVarInt(r.treeNodesRedispatched(), true);
            out.writeVarLong(r.lastHeardMillis(), true);
          },
          (k, in, version) -> {
            String kind = Persisted.readString(k, in);
            String detail = Persisted.readString(k, in);
            long seen = in.readVarLong(true);
            long redispatched = in.readVarLong(true);
            long firstCommit = in.readVarLong(true);
            long lastCommitBefore = in.readVarLong(true);
            long redone = in.readVarLong(true);
            long replay = in.readVarLong(true);
            int treeNodes = in.readVarInt(true);
            long lastHeard = version >= 2 ? in.readVarLong(true) : 0;
            return new Recovery(
                kind,
                detail,
                lastHeard,
                seen,
                redispatched,
                firstCommit,
                lastCommitBefore,
                redone,
                replay,
                treeNodes);
          });

  @Override
  public int firstId() {
    return 100;
  }

  @Override
  public int lastId() {
    return 199;
  }

  @Override
  public void register(WireRegistry r) {
    r.register(float[].class, 100, CheckedSerializers.FLOATS);
    r.register(double[].class, 101, CheckedSerializers.DOUBLES);
    r.register(long[].class, 102, CheckedSerializers.LONGS);
    r.register(int[].class, 103, CheckedSerializers.INTS);
    r.register(byte[].class, 104, CheckedSerializers.BYTES);
    r.register(String[].class, 105, CheckedSerializers.arrayOf(String.class));
    r.register(TreeNode.class, 120);
    r.register(TreeNode[].class, 121, CheckedSerializers.arrayOf(TreeNode.class));
    r.register(Recovery.class, 140, RECOVERY);
    r.register(TrainingProtocol.PrepareJob.class, 130);
    r.register(TrainingProtocol.Prepared.class, 131);
    r.register(TrainingProtocol.PrepareFailed.class, 132);
    r.register(TrainingProtocol.ComputeNodes.class, 133);
    r.register(TrainingProtocol.NodeResult.class, 134);
    r.register(TrainingProtocol.ParamsMissing.class, 135);
    r.register(TrainingProtocol.ReleaseJob.class, 136);
    r.register(float[][].class, 106, CheckedSerializers.arrayOf(float[].class));
    r.register(OptimizerState.class, 122);
    r.register(TrainingState.class, 123);
    r.register(TrainingProtocol.PlaneCompute.class, 137);
    r.register(TrainingProtocol.PlaneDone.class, 138);
    r.register(TrainingProtocol.PlaneFailed.class, 139);
  }
}
