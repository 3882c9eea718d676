package dev.anvil.coordinator;

import dev.anvil.coordinator.JobCoordinator.Command;
import dev.anvil.coordinator.JobCoordinator.PlaneSummed;
import dev.anvil.core.plane.DataPlane;
import dev.anvil.core.plane.PlaneException;
import dev.anvil.core.plane.PlaneGroup;
import dev.anvil.core.plane.PlaneServer;
import dev.anvil.core.protocol.TrainingProtocol.PlaneCompute;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.TrainingState;
import dev.anvil.core.train.TreeNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The coordinator's side of data-plane rounds (docs/data-plane.md): whether a round goes over the
 * plane, the view its workers form (who, which tree nodes, a view id no other view of the job has),
 * and the observer that receives each round's sum on a thread of its own and hands it to the actor
 * ({@link PlaneSummed}). A view starts with the training state sent to every worker of it; it lasts
 * while the same workers compute the same nodes. A failed plane round is done again over Artery,
 * and the plane waits longer after each failure in a row (8, 16, 32... rounds), and is given up for
 * the job after {@value #FAILURES_TO_GIVE_UP}.
 */
final class PlaneViews {
  static final int FAILURES_TO_GIVE_UP = 5;

  /** The observer's last resort; the round deadline normally ends a stuck round long before. */
  private static final Duration OBSERVE_TIMEOUT = Duration.ofMinutes(2);

  /** A view: its id, the work of each worker by index, and the observer's group. */
  private record View(
      long id,
      List<WorkerPool.Dispatch> work,
      String[] members,
      TreeNode[] plan,
      int[] sizes,
      PlaneGroup observer,
      float[][] sums) {}

  private final CoordinatorContext c;
  private final JobRun run;
  private final PlaneServer server;
  private final String advertised;
  private final ExecutorService observing;
  private View view;
  private long views;
  private int failures;
  private long planeFrom;

  /** The round whose PlaneCompute carried the state (a view's first). */
  private long stateRound = -1;

  /** The round sent ahead in the current view ({@link #sendAhead}); -1: none. */
  private long sentAhead = -1;

  PlaneViews(CoordinatorContext c, JobRun run) {
    this.c = c;
    this.run = run;
    DataPlane plane = DataPlane.get(c.actor.getSystem());
    this.server = c.settings.dataPlane() ? plane.server() : null;
    this.advertised = plane.advertised();
    this.observing =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "anvil-plane-observer-" + c.jobId);
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Whether round {@code round}'s {@code work} can go over the plane now: every worker has a plane
   * and at least one is on another node (workers all in this JVM get the parameters and return
   * their sums by reference, which costs less than any copy).
   */
  boolean usable(long round, List<WorkerPool.Dispatch> work) {
    return server != null
        && failures < FAILURES_TO_GIVE_UP
        && round >= planeFrom
        && !work.isEmpty()
        && work.stream().anyMatch(d -> !d.worker().path().address().hasLocalScope())
        && work.stream().allMatch(d -> run.pool.planeAddress(d.worker()) != null);
  }

  /** Whether a plane round is going on: round {@code round} of the current view. */
  boolean active(long round) {
    return view != null && stateRound >= 0 && round >= stateRound;
  }

  /**
   * Sends round {@code round} ({@code work}) over the plane: in the current view when it has the
   * same work, else in a new one that starts from {@code state} (the coordinator's, copied once);
   * whether it started a new view (whose first round connects and carries the state: slower).
   */
  boolean dispatch(long round, List<WorkerPool.Dispatch> work, TrainingState state) {
    boolean fresh = view == null || !sameWork(view.work(), work);
    if (!fresh && sentAhead == round) {
      return false; // sent when the previous round's sum came in
    }
    if (fresh) {
      open(work);
      stateRound = round;
    }
    TrainingState sent = fresh ? state.copy() : null;
    for (int i = 0; i < work.size(); i++) {
      tell(work.get(i).worker(), round, i, sent);
    }
    observe(view, round);
    return fresh;
  }

  /**
   * Sends round {@code next} in the current view as soon as the previous round's sum is in, before
   * this coordinator has applied it: the workers hold that state already, so they compute while the
   * coordinator checks, applies and journals. If the coordinator then dispatches {@code next} in
   * this view, nothing more is sent; if it does not (a pause, a stall, other workers), the workers'
   * round is wasted and their state is sent again when a view next needs it.
   */
  void sendAhead(long next) {
    if (view == null) {
      return;
    }
    for (int i = 0; i < view.work().size(); i++) {
      tell(view.work().get(i).worker(), next, i, null);
    }
    observe(view, next);
    sentAhead = next;
  }

  /** Sends round {@code round} again to {@code worker}, with the state (it had not got it). */
  void resendState(String worker, long round, TrainingState state) {
    if (view == null) {
      return;
    }
    TrainingState sent = state.copy();
    for (int i = 0; i < view.work().size(); i++) {
      ActorRef<dev.anvil.core.protocol.TrainingProtocol.WorkerCommand> w =
          view.work().get(i).worker();
      if (run.pool.nameOf(w).equals(worker)) {
        tell(w, round, i, sent);
      }
    }
  }

  private void tell(
      ActorRef<dev.anvil.core.protocol.TrainingProtocol.WorkerCommand> worker,
      long round,
      int index,
      TrainingState state) {
    worker.tell(
        new PlaneCompute(
            c.jobId,
            run.inc.coordinatorEpoch(),
            round,
            view.id(),
            index,
            view.members(),
            view.plan(),
            view.sizes(),
            state,
            c.replies));
  }

  private static boolean sameWork(List<WorkerPool.Dispatch> a, List<WorkerPool.Dispatch> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).worker().equals(b.get(i).worker())
          || !Arrays.equals(a.get(i).nodes(), b.get(i).nodes())) {
        return false;
      }
    }
    return true;
  }

  private void open(List<WorkerPool.Dispatch> work) {
    close();
    long id = (run.inc.coordinatorEpoch() << 32) | ++views;
    List<List<TreeNode>> plan = new ArrayList<>();
    String[] members = new String[work.size() + 1];
    int[] sizes = new int[work.size()];
    for (int i = 0; i < work.size(); i++) {
      plan.add(List.of(work.get(i).nodes()));
      members[i] = run.pool.planeAddress(work.get(i).worker());
      sizes[i] = work.get(i).nodes().length;
    }
    members[work.size()] = advertised;
    int length = run.job().model().parameterCount();
    PlaneGroup observer = PlaneGroup.observe(server, c.jobId, id, run.job().tree(), plan, length);
    TreeNode[] flat = plan.stream().flatMap(List::stream).toArray(TreeNode[]::new);
    // Two sums: round r+1's arrives (sent ahead) while the actor still applies round r's.
    view = new View(id, List.copyOf(work), members, flat, sizes, observer, new float[2][length]);
    sentAhead = -1;
  }

  private void observe(View v, long round) {
    ActorRef<Command> self = c.actor.getSelf();
    observing.execute(
        () -> {
          try {
            GradientSum sum =
                v.observer()
                    .observeRound(
                        round,
                        v.sums()[(int) (round & 1)],
                        System.nanoTime() + OBSERVE_TIMEOUT.toNanos());
            self.tell(new PlaneSummed(v.id(), round, sum, null, -1));
          } catch (PlaneException e) {
            self.tell(new PlaneSummed(v.id(), round, null, e.getMessage(), e.peer()));
          }
        });
  }

  /** Whether {@code s} is the current view's sum of {@code round}. */
  boolean current(long viewId, long round) {
    return view != null && view.id() == viewId && round >= stateRound;
  }

  boolean currentView(long viewId) {
    return view != null && view.id() == viewId;
  }

  /** The current view's worker at {@code index}; null when there is none (the observer's). */
  ActorRef<dev.anvil.core.protocol.TrainingProtocol.WorkerCommand> workerAt(int index) {
    return view == null || index < 0 || index >= view.work().size()
        ? null
        : view.work().get(index).worker();
  }

  /** The tree nodes the current view's worker at {@code index} computes. */
  int nodesAt(int index) {
    return view.work().get(index).nodes().length;
  }

  /** A plane round completed: the plane is good again. */
  void succeeded() {
    failures = 0;
  }

  /**
   * Plane round {@code round} failed: the view ends, and the plane waits before it is tried again;
   * whether this failure gave it up for the job.
   */
  boolean failed(long round) {
    close();
    failures++;
    planeFrom = round + (8L << Math.min(failures - 1, 20));
    return failures == FAILURES_TO_GIVE_UP;
  }

  /** The current view ends (its workers' rounds go over Artery, or a new view starts). */
  void close() {
    if (view != null) {
      view.observer().close();
      view = null;
      stateRound = -1;
      sentAhead = -1;
    }
  }

  /** The job's training ended here. */
  void shutdown() {
    close();
    observing.shutdownNow();
  }
}
