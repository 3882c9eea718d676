package dev.anvil.worker;

import dev.anvil.core.data.DataException;
import dev.anvil.core.fault.FaultHooks;
import dev.anvil.core.plane.DataPlane;
import dev.anvil.core.plane.PlaneServer;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.protocol.TrainingProtocol.ParamsMissing;
import dev.anvil.core.protocol.TrainingProtocol.PlaneCompute;
import dev.anvil.core.protocol.TrainingProtocol.PlaneFailed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareFailed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.protocol.TrainingProtocol.WorkerReply;
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
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One worker slot: computes gradient sums of tree nodes of logical shards, one shard at a time, on
 * the compute dispatcher. Holds, per job, the prepared job and the parameters of the newest round
 * it was sent (the cache by version: a re-dispatched or extra block of the same round needs no
 * second copy of the parameters).
 *
 * <p>Epochs: a request from an older coordinator epoch than the newest one seen for a job is
 * ignored (a zombie coordinator's dispatch), and counted.
 */
public final class Worker extends AbstractBehavior<WorkerCommand> {
  private final String name;
  private final PreparedJobs prepared;
  private final Map<String, JobContext> jobs = new HashMap<>();

  /** Kinds of malformed messages dropped: the first of each kind is logged at WARN. */
  private final java.util.Set<String> malformedKinds = new java.util.HashSet<>();

  /** Requests the fault hook held back, by identity: when they come round again, they run. */
  private final java.util.Set<WorkerCommand> delayed =
      java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

  /** What a worker keeps for one job. */
  private static final class JobContext {
    final long epoch;
    final PreparedJob job;
    final ShardComputer computer;
    long paramsRound = -1;
    float[] params;

    /** Its data-plane rounds; null until the first. */
    PlaneRounds plane;

    JobContext(long epoch, PreparedJob job) {
      this.epoch = epoch;
      this.job = job;
      this.computer = new ShardComputer(job, new GradientBuffers(job.model().parameterCount(), 4));
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
        .onMessage(PlaneCompute.class, this::onPlaneArrival)
        .onMessage(ReleaseJob.class, this::onRelease)
        .onSignal(PostStop.class, s -> releaseAll())
        .onSignal(PreRestart.class, s -> releaseAll())
        .build();
  }

  private Behavior<WorkerCommand> onPrepare(PrepareJob p) {
    if (p.replyTo() == null || !validJobId(p.jobId()) || p.spec() == null || p.epoch() < 0) {
      return dropMalformed(
          "PrepareJob without a reply address, a job id (1-"
              + MAX_JOB_ID
              + " characters), a spec or an epoch >= 0");
    }
    JobContext known = jobs.get(p.jobId());
    if (known != null && known.epoch > p.epoch()) {
      return this; // an answer to an earlier incarnation
    }
    if (known != null) {
      jobs.remove(p.jobId());
      closePlane(known);
      prepared.release(p.jobId());
    }
    try {
      JobSpec spec = JobSpecParser.parseUntrusted(p.spec(), "job " + p.jobId(), prepared.rules());
      PreparedJob job = prepared.acquire(p.jobId(), spec);
      jobs.put(p.jobId(), new JobContext(p.epoch(), job));
      getContext()
          .getLog()
          .info(
              "worker {} is ready for job {} (coordinator epoch {} on {})",
              name,
              p.jobId(),
              p.epoch(),
              p.replyTo().path().address().hasLocalScope()
                  ? "this node"
                  : p.replyTo().path().address().hostPort());
      p.replyTo()
          .tell(
              new Prepared(
                  p.jobId(),
                  p.epoch(),
                  name,
                  job.dataFingerprint(),
                  Canary.of(job),
                  job.kernel().name(),
                  getContext().getSelf(),
                  PROCESS_STARTED,
                  DataPlane.get(getContext().getSystem()).advertised()));
    } catch (JobSpecException | DataException | IllegalStateException e) {
      getContext()
          .getLog()
          .warn("worker {} cannot prepare job {}: {}", name, p.jobId(), e.getMessage());
      p.replyTo().tell(new PrepareFailed(p.jobId(), p.epoch(), name, e.getMessage()));
    } catch (RuntimeException e) {
      // Not one of the errors written for the submitter: its message may hold anything.
      getContext().getLog().warn("worker {} cannot prepare job {}", name, p.jobId(), e);
      p.replyTo()
          .tell(
              new PrepareFailed(
                  p.jobId(),
                  p.epoch(),
                  name,
                  "the worker could not"
                      + " prepare the job ("
                      + e.getClass().getSimpleName()
                      + "; the node's log has more)"));
    }
    return this;
  }

  static final int MAX_JOB_ID = 200;

  private static boolean validJobId(String jobId) {
    return jobId != null && !jobId.isEmpty() && jobId.length() <= MAX_JOB_ID;
  }

  /**
   * Why {@code c} cannot be computed for {@code ctx}'s job, or null when it can: the coordinator of
   * this epoch never sends such a request, so it came from elsewhere or was corrupted.
   */
  static String malformed(ComputeNodes c, PreparedJob job, long paramsRound) {
    if (c.round() < 0 || c.round() >= job.totalRounds()) {
      return "round outside the job's " + job.totalRounds() + " rounds";
    }
    if (c.params() != null && c.params().length != job.model().parameterCount()) {
      return "parameters of the wrong length (the model has " + job.model().parameterCount() + ")";
    }
    if (c.params() == null && paramsRound != c.round()) {
      return null; // answered with ParamsMissing
    }
    int shards = job.spec().logicalShards();
    if (c.nodes() == null || c.nodes().length == 0 || c.nodes().length > shards) {
      return "no tree nodes, or more than the job's " + shards + " logical shards";
    }
    for (TreeNode node : c.nodes()) {
      if (outsideTree(node, shards)) {
        return "a tree node outside the job's reduction tree of " + shards + " shards";
      }
    }
    return null;
  }

  /** Whether {@code node} (from another member) is null or no node of the tree of the shards. */
  static boolean outsideTree(TreeNode node, int shards) {
    return node == null
        || node.level() < 0
        || node.level() > 30
        || node.index() < 0
        || ((long) node.index() << node.level()) >= shards;
  }

  /** Drops a message that no coordinator sends; logs the first of each kind. */
  private Behavior<WorkerCommand> dropMalformed(String why) {
    if (malformedKinds.size() < 64 && malformedKinds.add(why)) {
      getContext()
          .getLog()
          .warn(
              "worker {} dropped a malformed message ({}); further ones of"
                  + " this kind are dropped silently",
              name,
              why);
    }
    return this;
  }

  /** A request arrives: the fault hook (a no-op outside chaos runs) may drop or delay it. */
  private Behavior<WorkerCommand> onArrival(ComputeNodes c) {
    if (c.replyTo() == null || !validJobId(c.jobId())) {
      return dropMalformed("ComputeNodes without a reply address or a job id");
    }
    return deliver(c, c.jobId(), c.round(), () -> onCompute(c));
  }

  /** A data-plane round arrives: the fault hook may drop or delay it, as a round over Artery. */
  private Behavior<WorkerCommand> onPlaneArrival(PlaneCompute c) {
    if (c.replyTo() == null || !validJobId(c.jobId())) {
      return dropMalformed("PlaneCompute without a reply address or a job id");
    }
    return deliver(c, c.jobId(), c.round(), () -> onPlaneCompute(c));
  }

  /**
   * Runs {@code handle} for request {@code c} unless the fault hook drops it or holds it back; a
   * request held back runs when it comes round again.
   */
  private Behavior<WorkerCommand> deliver(
      WorkerCommand c, String jobId, long round, Supplier<Behavior<WorkerCommand>> handle) {
    if (delayed.remove(c)) {
      return handle.get();
    }
    FaultHooks faults = FaultHooks.installed();
    switch (faults.delivery(jobId, round, name)) {
      case DROP:
        return this;
      case DELAY:
        delayed.add(c);
        getContext()
            .scheduleOnce(
                java.time.Duration.ofMillis(faults.delayMillis(jobId, round, name)),
                getContext().getSelf(),
                c);
        return this;
      default:
        return handle.get();
    }
  }

  private Behavior<WorkerCommand> onPlaneCompute(PlaneCompute c) {
    JobContext ctx = current(c.jobId(), c.epoch(), c.round(), c.replyTo());
    if (ctx == null) {
      return this;
    }
    if (ctx.epoch < c.epoch()) {
      return dropMalformed("PlaneCompute for an epoch the worker was not prepared in");
    }
    String wrong = PlaneRounds.malformed(c, ctx.job);
    if (wrong != null) {
      return dropMalformed("PlaneCompute with " + wrong);
    }
    PlaneServer server = DataPlane.get(getContext().getSystem()).server();
    if (server == null) {
      c.replyTo()
          .tell(
              new PlaneFailed(
                  c.jobId(),
                  c.epoch(),
                  c.round(),
                  c.view(),
                  name,
                  "this node has no data plane",
                  c.index()));
      return this;
    }
    if (ctx.plane == null) {
      ctx.plane = new PlaneRounds(name, ctx.job, ctx.computer, server);
    }
    ctx.plane.submit(c);
    return this;
  }

  /**
   * The worker's context of a job for a request of {@code epoch}, or null when it has none (then
   * answered: not prepared) or the request is an older epoch's (ignored).
   */
  private JobContext current(
      String jobId, long epoch, long round, org.apache.pekko.actor.typed.ActorRef<WorkerReply> to) {
    JobContext ctx = jobs.get(jobId);
    if (ctx == null || ctx.epoch > epoch) {
      getContext()
          .getLog()
          .debug("worker {} ignores round {} of job {} epoch {}", name, round, jobId, epoch);
      if (ctx == null) {
        to.tell(
            new PrepareFailed(
                jobId, epoch, name, "worker " + name + " has not prepared job " + jobId));
      }
      return null;
    }
    return ctx;
  }

  private Behavior<WorkerCommand> onCompute(ComputeNodes c) {
    JobContext ctx = current(c.jobId(), c.epoch(), c.round(), c.replyTo());
    if (ctx == null) {
      return this;
    }
    if (ctx.epoch < c.epoch()) {
      // A coordinator prepares its workers in its epoch before it sends them work.
      return dropMalformed("ComputeNodes for an epoch the worker was not prepared in");
    }
    String wrong = malformed(c, ctx.job, ctx.paramsRound);
    if (wrong != null) {
      return dropMalformed("ComputeNodes with " + wrong);
    }
    if (c.params() != null) {
      ctx.params = c.params();
      ctx.paramsRound = c.round();
    } else if (ctx.paramsRound != c.round()) {
      c.replyTo().tell(new ParamsMissing(c.jobId(), c.epoch(), c.round(), name));
      return this;
    }
    if (ctx.plane != null) {
      ctx.plane.stop(); // this round goes over Artery: a plane round still running ends first
    }
    FaultHooks faults = FaultHooks.installed();
    long start = System.nanoTime();
    FaultHooks.stall(faults.stallMillis(c.jobId(), c.round(), name)); // a straggler
    // All nodes in one stacked pass: each result's compute time is the pass's.
    List<GradientSum> sums = ctx.computer.computeAll(ctx.params, c.round(), List.of(c.nodes()));
    long computeNanos = System.nanoTime() - start;
    for (int i = 0; i < sums.size(); i++) {
      GradientSum sum = sums.get(i);
      float[] grad = faults.gradient(c.jobId(), c.round(), name, sum.grad());
      c.replyTo()
          .tell(
              new NodeResult(
                  c.jobId(),
                  c.epoch(),
                  c.round(),
                  c.nodes()[i],
                  grad,
                  sum.lossSum(),
                  sum.samples(),
                  name,
                  computeNanos));
    }
    return this;
  }

  private Behavior<WorkerCommand> onRelease(ReleaseJob r) {
    JobContext gone = jobs.remove(r.jobId());
    if (gone != null) {
      closePlane(gone);
      prepared.release(r.jobId());
      getContext()
          .getLog()
          .info("worker {} left job {} (released by its coordinator)", name, r.jobId());
    }
    return this;
  }

  private static void closePlane(JobContext ctx) {
    if (ctx.plane != null) {
      ctx.plane.close();
    }
  }

  private Behavior<WorkerCommand> releaseAll() {
    for (String jobId : jobs.keySet()) {
      closePlane(jobs.get(jobId));
      prepared.release(jobId);
    }
    jobs.clear();
    return this;
  }
}
