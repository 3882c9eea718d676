package dev.anvil.coordinator;

import dev.anvil.core.data.DataException;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.ComputeNodes;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.protocol.TrainingProtocol.ParamsMissing;
import dev.anvil.core.protocol.TrainingProtocol.PrepareFailed;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.core.train.Canary;
import dev.anvil.core.train.GradientBuffers;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.ShardComputer;
import dev.anvil.core.train.TreeNode;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Plays one worker slot in a test, as {@code dev.anvil.worker.Worker} does it: a job is prepared
 * from the spec it is sent (core's {@link PreparedJob}: data fingerprint, kernel, and {@link
 * Canary}), tree nodes are computed with core's {@link ShardComputer}, requests of an older
 * coordinator epoch than the newest prepared one are ignored, a request for a job not prepared is
 * answered with {@link PrepareFailed} and {@link ReleaseJob} drops the job whatever the epoch.
 *
 * <p>Every message the slot gets also goes to {@link #probe()}, for assertions. A {@link Script}
 * decides, request by request, whether the slot answers honestly, holds the request back (the test
 * may answer it later with {@link #answer}), answers with a NaN gradient, or first sends a forged
 * result of the previous epoch.
 */
final class TestWorker {
  /** What the slot does with a request it could compute. */
  enum Answer {
    HONEST,
    /** No answer: the request is held, as by a stalled or partitioned worker. */
    HOLD,
    /** The honest results, but the first one with a NaN as its first gradient value. */
    NAN,
    /** First a result of the same round stamped with the previous epoch, then the honest one. */
    STALE_EPOCH_FIRST
  }

  /** Chooses the {@link Answer} to each request; called on the slot's thread, in order. */
  @FunctionalInterface
  interface Script {
    Answer on(ComputeNodes request);

    Script HONEST = r -> Answer.HONEST;

    /** This script's answer, or {@code next}'s where this one answers honestly. */
    default Script orElse(Script next) {
      return r -> {
        Answer a = on(r);
        return a == Answer.HONEST ? next.on(r) : a;
      };
    }

    /** Holds every request of 0-based round {@code round} in coordinator epoch {@code epoch}. */
    static Script hold(long epoch, long round) {
      return r -> r.epoch() == epoch && r.round() == round ? Answer.HOLD : Answer.HONEST;
    }

    /** Holds every request of the job's first incarnation from 0-based round {@code round} on. */
    /**
     * Computes the round after each checkpoint round of job {@code jobId} (every {@code every}
     * rounds) only once that checkpoint is in {@code repository}, so that no capture replaces a
     * waiting one however slow the writes are (the test of every checkpoint's journaling).
     */
    static Script afterEachCheckpoint(
        InMemoryCheckpointRepository repository, String jobId, int every) {
      return r -> {
        long previous = r.round(); // rounds completed before this request's round
        if (previous > 0 && previous % every == 1 && previous > every) {
          try {
            if (!repository.awaitWritten(jobId, previous - 1, Duration.ofSeconds(30))) {
              throw new IllegalStateException(
                  "the checkpoint of round " + (previous - 1) + " was not written within 30 s");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return Answer.HONEST;
      };
    }

    static Script holdFrom(long round) {
      return r -> r.epoch() == 1 && r.round() >= round ? Answer.HOLD : Answer.HONEST;
    }

    /** Holds the first request of 0-based round {@code round} or later; answers all others. */
    static Script holdOnceFrom(long round) {
      return once(round, Answer.HOLD);
    }

    /**
     * Answers the first request of 0-based round {@code round} or later with a NaN in the first
     * result's gradient.
     */
    static Script nanOnceFrom(long round) {
      return once(round, Answer.NAN);
    }

    /** Answers the first request of epoch {@code epoch} after a forged one of the epoch before. */
    static Script staleEpochFirst(long epoch) {
      AtomicBoolean done = new AtomicBoolean();
      return r ->
          r.epoch() == epoch && done.compareAndSet(false, true)
              ? Answer.STALE_EPOCH_FIRST
              : Answer.HONEST;
    }

    private static Script once(long round, Answer answer) {
      AtomicBoolean done = new AtomicBoolean();
      return r -> r.round() >= round && done.compareAndSet(false, true) ? answer : Answer.HONEST;
    }
  }

  /** When this process started (epoch ms), which a worker reports as its node's start. */
  private static final long PROCESS_STARTED = ManagementFactory.getRuntimeMXBean().getStartTime();

  private final String name;
  private final TestProbe<WorkerCommand> probe;
  private final ActorRef<WorkerCommand> ref;

  /** The jobs this slot prepared, by id; kept after a release so held requests can be answered. */
  private final Map<String, PreparedJob> prepared = new ConcurrentHashMap<>();

  private TestWorker(ActorTestKit kit, String id, Script script) {
    this.name = kit.system().address().hostPort() + "/" + id;
    this.probe = kit.createTestProbe(WorkerCommand.class);
    this.ref =
        kit.spawn(
            Behaviors.setup(
                ctx ->
                    new Slot(ctx, this, script, SpecRules.from(kit.system().settings().config()))),
            id);
  }

  /**
   * A slot named {@code id} in {@code kit}'s system, registered with the receptionist under {@link
   * TrainingProtocol#WORKERS}.
   */
  static TestWorker start(ActorTestKit kit, String id, Script script) {
    TestWorker w = new TestWorker(kit, id, script);
    kit.system().receptionist().tell(Receptionist.register(TrainingProtocol.WORKERS, w.ref));
    return w;
  }

  /** The name the slot reports (its node's host:port and its own id, as a node names them). */
  String name() {
    return name;
  }

  TestProbe<WorkerCommand> probe() {
    return probe;
  }

  ActorRef<WorkerCommand> ref() {
    return ref;
  }

  /** The next request for 0-based round {@code round} this slot gets (others skipped). */
  ComputeNodes awaitRequest(long round, Duration max) {
    return awaitRequest("a request of round " + round, c -> c.round() == round, max);
  }

  /** The next request of 0-based round {@code round} or a later one. */
  ComputeNodes awaitRequestFrom(long round, Duration max) {
    return awaitRequest("a request of round " + round + " or later", c -> c.round() >= round, max);
  }

  /** The next request of 0-based round {@code round} that holds every one of {@code nodes}. */
  ComputeNodes awaitNodes(long round, TreeNode[] nodes, Duration max) {
    return awaitRequest(
        "a request of round " + round + " for " + Arrays.toString(nodes),
        c -> c.round() == round && Arrays.asList(c.nodes()).containsAll(Arrays.asList(nodes)),
        max);
  }

  /** The next request this slot gets that is {@code wanted} (others skipped). */
  ComputeNodes awaitRequest(String what, Predicate<ComputeNodes> wanted, Duration max) {
    List<WorkerCommand> seen =
        probe.fishForMessage(
            max,
            what,
            m ->
                m instanceof ComputeNodes c && wanted.test(c)
                    ? FishingOutcomes.complete()
                    : FishingOutcomes.continueAndIgnore());
    return (ComputeNodes) seen.get(seen.size() - 1);
  }

  /** Waits until the slot is released from {@code jobId}. */
  void awaitRelease(String jobId, Duration max) {
    probe.fishForMessage(
        max,
        "the release of job " + jobId,
        m ->
            m instanceof ReleaseJob r && r.jobId().equals(jobId)
                ? FishingOutcomes.complete()
                : FishingOutcomes.continueAndIgnore());
  }

  /** Answers {@code request} honestly, from the caller's thread (a held request, say). */
  void answer(ComputeNodes request) {
    results(prepared.get(request.jobId()), request, request.params())
        .forEach(request.replyTo()::tell);
  }

  /** The honest results of {@code request}: one per tree node, in the request's order. */
  private List<NodeResult> results(PreparedJob job, ComputeNodes request, float[] params) {
    ShardComputer computer =
        new ShardComputer(job, new GradientBuffers(job.model().parameterCount(), 4));
    List<NodeResult> out = new ArrayList<>();
    for (TreeNode node : request.nodes()) {
      long start = System.nanoTime();
      GradientSum sum = computer.compute(params, request.round(), node);
      out.add(
          new NodeResult(
              request.jobId(),
              request.epoch(),
              request.round(),
              node,
              sum.grad(),
              sum.lossSum(),
              sum.samples(),
              name,
              System.nanoTime() - start));
    }
    return out;
  }

  /** The slot itself: the worker protocol, with the script's answers. */
  private static final class Slot extends AbstractBehavior<WorkerCommand> {
    /** A prepared job: the epoch it was prepared in and the newest round's parameters. */
    private record Job(long epoch, PreparedJob prepared, long paramsRound, float[] params) {}

    private final TestWorker owner;
    private final Script script;
    private final SpecRules rules;
    private final Map<String, Job> jobs = new HashMap<>();

    Slot(ActorContext<WorkerCommand> context, TestWorker owner, Script script, SpecRules rules) {
      super(context);
      this.owner = owner;
      this.script = script;
      this.rules = rules;
    }

    @Override
    public Receive<WorkerCommand> createReceive() {
      return newReceiveBuilder()
          .onMessage(PrepareJob.class, this::onPrepare)
          .onMessage(ComputeNodes.class, this::onCompute)
          .onMessage(ReleaseJob.class, this::onRelease)
          .build();
    }

    private Behavior<WorkerCommand> onPrepare(PrepareJob p) {
      owner.probe.ref().tell(p);
      Job known = jobs.get(p.jobId());
      if (known != null && known.epoch() > p.epoch()) {
        return this; // a request of an older incarnation
      }
      try {
        PreparedJob job =
            PreparedJob.prepare(
                JobSpecParser.parseUntrusted(p.spec(), "job " + p.jobId(), rules),
                "job " + p.jobId(),
                rules);
        jobs.put(p.jobId(), new Job(p.epoch(), job, -1, null));
        owner.prepared.put(p.jobId(), job);
        p.replyTo()
            .tell(
                new Prepared(
                    p.jobId(),
                    p.epoch(),
                    owner.name,
                    job.dataFingerprint(),
                    Canary.of(job),
                    job.kernel().name(),
                    getContext().getSelf(),
                    PROCESS_STARTED,
                    null));
      } catch (JobSpecException | DataException | IllegalStateException e) {
        p.replyTo().tell(new PrepareFailed(p.jobId(), p.epoch(), owner.name, e.getMessage()));
      }
      return this;
    }

    private Behavior<WorkerCommand> onCompute(ComputeNodes c) {
      owner.probe.ref().tell(c);
      Job job = jobs.get(c.jobId());
      if (job == null) {
        c.replyTo()
            .tell(
                new PrepareFailed(
                    c.jobId(),
                    c.epoch(),
                    owner.name,
                    "worker " + owner.name + " has not prepared job " + c.jobId()));
        return this;
      }
      if (job.epoch() != c.epoch()) {
        return this; // older: a zombie's request; newer: never prepared in it
      }
      if (c.params() != null) {
        job = new Job(job.epoch(), job.prepared(), c.round(), c.params());
        jobs.put(c.jobId(), job);
      } else if (job.paramsRound() != c.round()) {
        c.replyTo().tell(new ParamsMissing(c.jobId(), c.epoch(), c.round(), owner.name));
        return this;
      }
      Answer answer = script.on(c);
      if (answer == Answer.HOLD) {
        return this;
      }
      List<NodeResult> results = owner.results(job.prepared(), c, job.params());
      if (answer == Answer.STALE_EPOCH_FIRST) {
        results.forEach(r -> c.replyTo().tell(forged(r)));
      }
      if (answer == Answer.NAN) {
        results.get(0).grad()[0] = Float.NaN;
      }
      results.forEach(c.replyTo()::tell);
      return this;
    }

    /** A finite but wrong result stamped with the epoch before {@code r}'s. */
    private static NodeResult forged(NodeResult r) {
      float[] grad = new float[r.grad().length];
      Arrays.fill(grad, 1f);
      return new NodeResult(
          r.jobId(),
          r.epoch() - 1,
          r.round(),
          r.node(),
          grad,
          r.lossSum(),
          r.samples(),
          r.worker(),
          r.computeNanos());
    }

    private Behavior<WorkerCommand> onRelease(ReleaseJob r) {
      owner.probe.ref().tell(r);
      jobs.remove(r.jobId());
      return this;
    }
  }
}
