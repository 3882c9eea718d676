package dev.anvil.worker;

import dev.anvil.core.data.DataException;
import dev.anvil.core.fault.FaultHooks;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.protocol.TrainingProtocol.ParamsMissing;
import dev.anvil.core.protocol.TrainingProtocol.PrepareFailed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.Canary;
import dev.anvil.core.train.GradientBuffers;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.ShardComputer;
import dev.anvil.core.train.TreeNode;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One worker slot: computes gradient sums of tree nodes of logical shards, one shard at a time,
 * on the compute dispatcher. Holds, per job, the prepared job and the parameters of the newest
 * round it was sent (the cache by version: a re-dispatched or extra block of the same round
 * needs no second copy of the parameters).
 *
 * <p>Epochs: a request from an older coordinator epoch than the newest one seen for a job is
 * ignored (a zombie coordinator's dispatch), and counted.
 */
public final class Worker extends AbstractBehavior<WorkerCommand> {
  private final String name;
  private final PreparedJobs prepared;
  private final Map<String, JobContext> jobs = new HashMap<>();
  private long staleRequests;
  /** Requests the fault hook held back, by identity: when they come round again, they run. */
  private final java.util.Set<ComputeNodes> delayed =
      java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

  /** What a worker keeps for one job. */
  private static final class JobContext {
    final long epoch;
    final PreparedJob job;
    final ShardComputer computer;
    long paramsRound = -1;
    float[] params;

    JobContext(long epoch, PreparedJob job) {
      this.epoch = epoch;
      this.job = job;
      this.computer = new ShardComputer(job,
          new GradientBuffers(job.model().parameterCount(), 4));
    }
  }

  /** When this process started (epoch ms): how long a restarted node took to rejoin a job. */
  private static final long PROCESS_STARTED =
      java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();

  public static Behavior<WorkerCommand> create(String name, PreparedJobs prepared) {
    return Behaviors.setup(ctx -> new Worker(ctx, name, prepared));
  }

  private Worker(ActorContext<WorkerCommand> context, String name, PreparedJobs prepared) {
    super(context);
    context.setLoggerName(Worker.class);
    this.name = name;
    this.prepared = prepared;
  }

  @Override
  public Receive<WorkerCommand> createReceive() {
    return newReceiveBuilder()
        .onMessage(PrepareJob.class, this::onPrepare)
        .onMessage(ComputeNodes.class, this::onArrival)
        .onMessage(ReleaseJob.class, this::onRelease)
        .onSignal(PostStop.class, s -> releaseAll())
        .build();
  }

  private Behavior<WorkerCommand> onPrepare(PrepareJob p) {
    JobContext known = jobs.get(p.jobId());
    if (known != null && known.epoch > p.epoch()) {
      staleRequests++;
      return this;
    }
    if (known != null) {
      jobs.remove(p.jobId());
      prepared.release(p.jobId());
    }
    try {
      JobSpec spec = JobSpecParser.parse(p.spec(), "job " + p.jobId(), null);
      PreparedJob job = prepared.acquire(p.jobId(), spec);
      jobs.put(p.jobId(), new JobContext(p.epoch(), job));
      p.replyTo().tell(new Prepared(p.jobId(), p.epoch(), name, job.dataFingerprint(),
          Canary.of(job), job.kernel().name(), getContext().getSelf(), PROCESS_STARTED));
    } catch (JobSpecException | DataException | IllegalStateException e) {
      getContext().getLog().warn("worker {} cannot prepare job {}: {}", name, p.jobId(),
          e.getMessage());
      p.replyTo().tell(new PrepareFailed(p.jobId(), p.epoch(), name, e.getMessage()));
    }
    return this;
  }

  /** A request arrives: the fault hook (a no-op outside chaos runs) may drop or delay it. */
  private Behavior<WorkerCommand> onArrival(ComputeNodes c) {
    if (delayed.remove(c)) {
      return onCompute(c);
    }
    FaultHooks faults = FaultHooks.installed();
    switch (faults.delivery(c.jobId(), c.round(), name)) {
      case DROP:
        return this;
      case DELAY:
        delayed.add(c);
        getContext().scheduleOnce(java.time.Duration.ofMillis(
            faults.delayMillis(c.jobId(), c.round(), name)), getContext().getSelf(), c);
        return this;
      default:
        return onCompute(c);
    }
  }

  private Behavior<WorkerCommand> onCompute(ComputeNodes c) {
    JobContext ctx = jobs.get(c.jobId());
    if (ctx == null || ctx.epoch != c.epoch()) {
      if (ctx == null || ctx.epoch > c.epoch()) {
        staleRequests++;
        getContext().getLog().debug("worker {} ignores round {} of job {} epoch {}", name,
            c.round(), c.jobId(), c.epoch());
        if (ctx == null) {
          c.replyTo().tell(new PrepareFailed(c.jobId(), c.epoch(), name,
              "worker " + name + " has not prepared job " + c.jobId()));
        }
        return this;
      }
    }
    if (c.params() != null) {
      ctx.params = c.params();
      ctx.paramsRound = c.round();
    } else if (ctx.paramsRound != c.round()) {
      c.replyTo().tell(new ParamsMissing(c.jobId(), c.epoch(), c.round(), name));
      return this;
    }
    FaultHooks faults = FaultHooks.installed();
    for (TreeNode node : c.nodes()) {
      long start = System.nanoTime();
      FaultHooks.stall(faults.stallMillis(c.jobId(), c.round(), name));  // a straggler
      GradientSum sum = ctx.computer.compute(ctx.params, c.round(), node);
      float[] grad = faults.gradient(c.jobId(), c.round(), name, sum.grad());
      c.replyTo().tell(new NodeResult(c.jobId(), c.epoch(), c.round(), node, grad,
          sum.lossSum(), sum.samples(), name, System.nanoTime() - start));
    }
    return this;
  }

  private Behavior<WorkerCommand> onRelease(ReleaseJob r) {
    if (jobs.remove(r.jobId()) != null) {
      prepared.release(r.jobId());
    }
    return this;
  }

  private Behavior<WorkerCommand> releaseAll() {
    for (String jobId : jobs.keySet()) {
      prepared.release(jobId);
    }
    jobs.clear();
    return this;
  }

  long staleRequests() {
    return staleRequests;
  }
}
