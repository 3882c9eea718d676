package dev.anvil.coordinator;

import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.UniqueAddress;

/**
 * A job's workers: recruits, the live ones rounds are assigned among, joiners being prepared,
 * suspects (late or bad; on probation), and the node incarnations the job lost (identified by
 * unique address: a node started again on the same host:port is a new incarnation, admitted). It
 * decides who computes what: each round's dispatch, and the re-dispatch when a worker misses a
 * deadline, its node is lost or leaves, or it sends a bad result. Pure: the actor sends.
 */
final class WorkerPool {
  /** Work for one worker: tree nodes of the current round. */
  record Dispatch(ActorRef<WorkerCommand> worker, TreeNode[] nodes) {}

  /** A missed deadline: the tree nodes not delivered, who was late, who takes them. */
  record Redispatch(
      List<TreeNode> missing, List<String> late, List<ActorRef<WorkerCommand>> helpers) {}

  /** A lost node's live workers and the tree nodes of this round they had not delivered. */
  record Loss(List<ActorRef<WorkerCommand>> gone, List<TreeNode> missing, boolean noneLeft) {}

  private final Function<ActorRef<WorkerCommand>, UniqueAddress> membership;
  private final Map<ActorRef<WorkerCommand>, Prepared> prepared = new LinkedHashMap<>();
  private List<ActorRef<WorkerCommand>> recruits = new ArrayList<>();

  /** The recruits whose node has stayed reachable; rounds are assigned among them. */
  private List<ActorRef<WorkerCommand>> live = List.of();

  /** Workers being prepared to join the running job, with their node's incarnation. */
  private final Map<ActorRef<WorkerCommand>, UniqueAddress> joining = new HashMap<>();

  /** Workers that missed a deadline (or sent a bad result), with the round; on probation. */
  private final Map<ActorRef<WorkerCommand>, Long> suspects = new HashMap<>();

  /** The node incarnation of each worker recruited or admitted (not of a later one there). */
  private final Map<ActorRef<WorkerCommand>, UniqueAddress> nodeOf = new HashMap<>();

  private final LostNodes lostNodes = new LostNodes();

  /** Who was sent what this round: results are taken only from them. */
  private final Dispatches dispatches = new Dispatches();

  private Assignment assignment;

  /** The workers the current assignment is over. */
  private List<ActorRef<WorkerCommand>> assigned = List.of();

  /**
   * With the nodes lost in {@code recorded} recoveries; {@code membership} finds the node
   * incarnation a worker not seen before runs on (null: none live).
   */
  WorkerPool(List<Recovery> recorded, Function<ActorRef<WorkerCommand>, UniqueAddress> membership) {
    this.membership = membership;
    lostNodes.replay(recorded);
  }

  static String hostPort(Address a) {
    return a.getHost().orElse("?") + ":" + a.getPort().map(String::valueOf).orElse("?");
  }

  static String hostPort(UniqueAddress node) {
    return hostPort(node.address());
  }

  /** The incarnation of the node {@code w} runs on, as first seen; null when unknown. */
  UniqueAddress incarnationOf(ActorRef<WorkerCommand> w) {
    UniqueAddress known = nodeOf.get(w);
    return known != null ? known : membership.apply(w);
  }

  /** Whether worker {@code w} runs on incarnation {@code node}. */
  private boolean on(ActorRef<WorkerCommand> w, UniqueAddress node) {
    UniqueAddress known = nodeOf.get(w);
    return known != null ? known.equals(node) : w.path().address().equals(node.address());
  }

  /** Recruits up to {@code count} of {@code listed} (in stable order); returns them. */
  List<ActorRef<WorkerCommand>> recruit(Set<ActorRef<WorkerCommand>> listed, int count) {
    recruits = new ArrayList<>(Assignment.choose(listed, Math.min(count, listed.size())));
    for (ActorRef<WorkerCommand> w : recruits) {
      UniqueAddress node = incarnationOf(w);
      if (node != null) {
        nodeOf.put(w, node);
      }
    }
    return List.copyOf(recruits);
  }

  boolean isRecruit(ActorRef<WorkerCommand> w) {
    return recruits.contains(w);
  }

  /** Every worker ever recruited or admitted (to release at the end). */
  List<ActorRef<WorkerCommand>> recruits() {
    return List.copyOf(recruits);
  }

  void prepared(ActorRef<WorkerCommand> w, Prepared p) {
    prepared.put(w, p);
  }

  /** The node a recruit was recruited on (null: unknown). */
  UniqueAddress recruitedOn(ActorRef<WorkerCommand> w) {
    return nodeOf.get(w);
  }

  /** Where {@code w}'s node has its data plane ({@code host:port}); null when it has none. */
  String planeAddress(ActorRef<WorkerCommand> w) {
    Prepared p = prepared.get(w);
    return p == null ? null : p.dataPlane();
  }

  /** Whether every recruit has answered Prepared. */
  boolean allPrepared() {
    return prepared.keySet().containsAll(recruits);
  }

  /** Training starts: the recruits are live and assigned. */
  void start(ReductionTree tree) {
    assignment = Assignment.of(tree, recruits);
    assigned = List.copyOf(recruits);
    live = new ArrayList<>(recruits);
  }

  List<ActorRef<WorkerCommand>> live() {
    return live;
  }

  Assignment assignment() {
    return assignment;
  }

  /** A worker's name as it reports it (its path until it is prepared). */
  String nameOf(ActorRef<WorkerCommand> w) {
    Prepared p = prepared.get(w);
    return p == null ? w.path().toString() : p.worker();
  }

  /** Live workers that have not missed a deadline since their last result (all, if none). */
  List<ActorRef<WorkerCommand>> active() {
    List<ActorRef<WorkerCommand>> a = live.stream().filter(w -> !suspects.containsKey(w)).toList();
    return a.isEmpty() ? live : a;
  }

  /**
   * The work of round {@code round} (0-based), by worker. A suspect whose result was lost (a
   * dropped message) would never answer again: after {@code probation} rounds it gets work again,
   * and sits out again if it misses again.
   */
  List<Dispatch> dispatchRound(long round, ReductionTree tree, int probation) {
    suspects.values().removeIf(since -> round - since >= probation);
    List<ActorRef<WorkerCommand>> active = active();
    if (!active.equals(assigned)) {
      assigned = active;
      assignment = Assignment.of(tree, active);
    }
    dispatches.newRound(round);
    List<Dispatch> out = new ArrayList<>();
    for (ActorRef<WorkerCommand> w : active) {
      TreeNode[] nodes = assignment.nodesOf(w);
      dispatches.sent(nameOf(w), nodes);
      out.add(new Dispatch(w, nodes));
    }
    return out;
  }

  /** {@code nodes} shared round-robin among {@code to}, recorded as sent. */
  List<Dispatch> handOut(List<TreeNode> nodes, List<ActorRef<WorkerCommand>> to) {
    Map<ActorRef<WorkerCommand>, List<TreeNode>> share = new LinkedHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      share.computeIfAbsent(to.get(i % to.size()), k -> new ArrayList<>()).add(nodes.get(i));
    }
    List<Dispatch> out = new ArrayList<>();
    share.forEach(
        (w, n) -> {
          TreeNode[] sent = n.toArray(new TreeNode[0]);
          dispatches.sent(nameOf(w), sent);
          out.add(new Dispatch(w, sent));
        });
    return out;
  }

  /** Whether {@code worker} was sent {@code node} in {@code round}, the current round. */
  boolean expected(long round, String worker, TreeNode node) {
    return dispatches.expected(round, worker, node);
  }

  /**
   * Round {@code round} missed its deadline with {@code delivered} in: the assigned workers behind
   * become suspects; returns their undelivered tree nodes and the workers to give them to, or null
   * when there is nobody else to give them to or nothing is missing.
   */
  Redispatch missedDeadline(long round, RoundState delivered) {
    List<TreeNode> missing = new ArrayList<>();
    List<String> late = new ArrayList<>();
    for (ActorRef<WorkerCommand> w : assigned) {
      List<TreeNode> behind = undelivered(w, delivered);
      missing.addAll(behind);
      if (!behind.isEmpty() && suspects.putIfAbsent(w, round) == null) {
        late.add(nameOf(w));
      }
    }
    List<ActorRef<WorkerCommand>> helpers = active();
    return missing.isEmpty() || helpers.equals(assigned)
        ? null
        : new Redispatch(missing, late, helpers);
  }

  private List<TreeNode> undelivered(ActorRef<WorkerCommand> w, RoundState delivered) {
    List<TreeNode> out = new ArrayList<>();
    for (TreeNode node : assignment.nodesOf(w)) {
      if (!delivered.covers(node)) {
        out.add(node);
      }
    }
    return out;
  }

  /**
   * Node incarnation {@code node} is unreachable, leaving, downed or removed: whether this is the
   * first the pool hears of it. Its joiners are given up either way.
   */
  boolean lost(UniqueAddress node) {
    boolean fresh = lostNodes.lost(hostPort(node), node.longUid());
    joining.values().removeIf(node::equals);
    return fresh;
  }

  /** Before training: recruits on {@code node} not prepared yet are dropped; any left? */
  boolean dropUnprepared(UniqueAddress node) {
    recruits.removeIf(w -> on(w, node) && !prepared.containsKey(w));
    return !recruits.isEmpty();
  }

  /**
   * While training: the live workers on lost {@code node} leave the job at once, with their
   * undelivered tree nodes of this round ({@code delivered}); null when none was on it. When no
   * live worker would be left, nothing changes and {@link Loss#noneLeft} says so.
   */
  Loss loseLive(UniqueAddress node, RoundState delivered) {
    List<ActorRef<WorkerCommand>> gone = live.stream().filter(w -> on(w, node)).toList();
    if (gone.isEmpty()) {
      return null;
    }
    if (gone.size() == live.size()) {
      return new Loss(gone, List.of(), true);
    }
    List<TreeNode> missing = new ArrayList<>();
    for (ActorRef<WorkerCommand> w : gone) {
      missing.addAll(undelivered(w, delivered));
    }
    List<ActorRef<WorkerCommand>> remaining = new ArrayList<>(live);
    remaining.removeAll(gone);
    live = List.copyOf(remaining);
    gone.forEach(suspects::remove);
    return new Loss(gone, missing, false);
  }

  /**
   * {@code node} is leaving gracefully: its live workers take no more work (they finish what they
   * have); returns them, or nothing when none, or all, are on it (then the deadline decides).
   */
  List<ActorRef<WorkerCommand>> retire(UniqueAddress node) {
    List<ActorRef<WorkerCommand>> gone = live.stream().filter(w -> on(w, node)).toList();
    if (gone.isEmpty() || gone.size() == live.size()) {
      return List.of();
    }
    List<ActorRef<WorkerCommand>> remaining = new ArrayList<>(live);
    remaining.removeAll(gone);
    live = List.copyOf(remaining);
    return gone;
  }

  /** {@code node} is reachable again. */
  void back(UniqueAddress node) {
    lostNodes.back(hostPort(node), node.longUid());
  }

  /**
   * {@code node} left the membership for good: it is forgotten (its host:port stays marked for a
   * rejoin), and workers still preparing on it are given up.
   */
  void removed(UniqueAddress node) {
    lostNodes.removed(hostPort(node), node.longUid());
    joining.values().removeIf(node::equals);
    nodeOf.entrySet().removeIf(e -> e.getValue().equals(node) && !live.contains(e.getKey()));
  }

  /**
   * The listed workers the running job has room for (up to {@code wanted}), in stable order: on a
   * live incarnation of their node, never on one the job lost. They are recorded as joining; the
   * caller prepares them.
   */
  List<ActorRef<WorkerCommand>> joiners(Set<ActorRef<WorkerCommand>> listed, int wanted) {
    List<ActorRef<WorkerCommand>> out = new ArrayList<>();
    if (wanted - live.size() - joining.size() <= 0) {
      return out;
    }
    listed.stream()
        .filter(w -> !live.contains(w) && !joining.containsKey(w))
        .sorted(Comparator.comparing(w -> w.path().toString()))
        .forEach(
            w -> {
              UniqueAddress node = incarnationOf(w);
              if (joining.size() + live.size() >= wanted
                  || node == null
                  || !lostNodes.admissible(hostPort(node), node.longUid())) {
                return;
              }
              joining.put(w, node);
              nodeOf.put(w, node);
              out.add(w);
            });
    return out;
  }

  /** A joiner answered: its node (null: it was not joining); it is joining no more. */
  UniqueAddress joinerAnswered(ActorRef<WorkerCommand> w) {
    return joining.remove(w);
  }

  /** A joiner named {@code worker} cannot join. */
  void joinFailed(String worker) {
    joining
        .keySet()
        .removeIf(w -> (w.path().address().hostPort() + "/" + w.path().name()).equals(worker));
  }

  /** A prepared joiner on {@code node} takes part from the next round; false if node lost. */
  boolean admit(ActorRef<WorkerCommand> w, Prepared p, UniqueAddress node) {
    if (!lostNodes.admissible(hostPort(node), node.longUid())) {
      return false;
    }
    prepared.put(w, p);
    recruits.add(w);
    List<ActorRef<WorkerCommand>> more = new ArrayList<>(live);
    more.add(w);
    live = List.copyOf(more);
    return true;
  }

  /** Whether {@code node} is a new incarnation of a host:port this job lost. */
  boolean rejoined(UniqueAddress node) {
    return lostNodes.rejoined(hostPort(node), node.longUid());
  }

  /** Whether {@code node} is the first incarnation of its host:port this job sees. */
  boolean firstFrom(UniqueAddress node) {
    return lostNodes.firstFrom(hostPort(node));
  }

  /** A result of {@code worker} was good: it is no suspect any more. */
  void delivered(String worker) {
    if (!suspects.isEmpty()) {
      suspects.keySet().removeIf(w -> nameOf(w).equals(worker));
    }
  }

  /** {@code worker} sent a bad result in {@code round}: it sits out until a good one. */
  void suspect(String worker, long round) {
    for (ActorRef<WorkerCommand> w : live) {
      if (nameOf(w).equals(worker)) {
        suspects.putIfAbsent(w, round);
      }
    }
  }

  /** Active workers other than {@code worker} (all active ones if it is the only one). */
  List<ActorRef<WorkerCommand>> activeExcept(String worker) {
    List<ActorRef<WorkerCommand>> others =
        active().stream().filter(w -> !nameOf(w).equals(worker)).toList();
    return others.isEmpty() ? active() : others;
  }

  /** The prepared workers named {@code worker}, with their tree nodes of this round. */
  List<Dispatch> named(String worker) {
    List<Dispatch> out = new ArrayList<>();
    prepared.forEach(
        (w, p) -> {
          if (p.worker().equals(worker)) {
            out.add(new Dispatch(w, assignment.nodesOf(w)));
          }
        });
    return out;
  }

  /** How many of {@code workers} run on each node incarnation, by host:port then uid. */
  Map<UniqueAddress, Integer> byNode(List<ActorRef<WorkerCommand>> workers) {
    Map<UniqueAddress, Integer> byNode =
        new TreeMap<>(
            Comparator.comparing((UniqueAddress u) -> hostPort(u))
                .thenComparingLong(UniqueAddress::longUid));
    for (ActorRef<WorkerCommand> w : workers) {
      UniqueAddress node = incarnationOf(w);
      if (node != null) {
        byNode.merge(node, 1, Integer::sum);
      }
    }
    return byNode;
  }
}
