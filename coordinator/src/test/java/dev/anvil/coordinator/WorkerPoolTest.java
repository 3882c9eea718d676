package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.Recovery;
import dev.anvil.core.train.ReductionTree;
import dev.anvil.core.train.TreeNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.UniqueAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who computes what: recruiting, each round's dispatch, re-dispatch after a missed deadline, a lost
 * or leaving node or a bad result, suspects on probation, and which joiners are admitted (by node
 * incarnation, never by host:port alone). Workers are test probes placed on nodes by a map that
 * plays the cluster membership.
 */
class WorkerPoolTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Address B = new Address("pekko", "anvil", "127.0.0.1", 2552);
  private static final Address C = new Address("pekko", "anvil", "127.0.0.1", 2553);

  /** Node B's first incarnation, its second (started again on the same host:port), and C. */
  private static final UniqueAddress B1 = new UniqueAddress(B, 1);

  private static final UniqueAddress B2 = new UniqueAddress(B, 2);
  private static final UniqueAddress C3 = new UniqueAddress(C, 3);
  private static final ReductionTree TREE = new ReductionTree(8);
  private static final int PROBATION = 3;

  /** The workers, in path order (their probes' names sort so). */
  private static final ActorRef<WorkerCommand> W_A = worker("a");

  private static final ActorRef<WorkerCommand> W_B = worker("b");
  private static final ActorRef<WorkerCommand> W_C = worker("c");
  private static final ActorRef<WorkerCommand> W_D = worker("d");
  private static final ActorRef<WorkerCommand> W_E = worker("e");

  /** The membership: where each worker runs (absent: on no live member). */
  private final Map<ActorRef<WorkerCommand>, UniqueAddress> where = new HashMap<>();

  private WorkerPool pool;

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<WorkerCommand> worker(String name) {
    return testKit.<WorkerCommand>createTestProbe(name).ref();
  }

  @BeforeEach
  void placeWorkers() {
    where.put(W_A, B1);
    where.put(W_B, B1);
    where.put(W_C, C3);
    pool = new WorkerPool(List.of(), where::get);
  }

  private static String name(ActorRef<WorkerCommand> w) {
    return "worker-" + w.path().name();
  }

  private static Prepared prepared(ActorRef<WorkerCommand> w) {
    return new Prepared("j", 1, name(w), "fp", "canary", "java", w, 0, null);
  }

  /** Recruits and prepares {@code workers} (all that are listed) and starts training. */
  private void training(List<ActorRef<WorkerCommand>> workers) {
    pool.recruit(Set.copyOf(workers), workers.size());
    workers.forEach(w -> pool.prepared(w, prepared(w)));
    pool.start(TREE);
  }

  /** The round's results for {@code nodes}, as delivered. */
  private static RoundState delivered(long round, List<TreeNode> nodes) {
    RoundState s = RoundState.start(round, TREE.leaves());
    for (TreeNode n : nodes) {
      s = s.accept(round, n, new GradientSum(new float[] {1}, 1, 1)).state();
    }
    return s;
  }

  private static Map<ActorRef<WorkerCommand>, List<TreeNode>> byWorker(
      List<WorkerPool.Dispatch> work) {
    Map<ActorRef<WorkerCommand>, List<TreeNode>> out = new LinkedHashMap<>();
    work.forEach(d -> out.put(d.worker(), List.of(d.nodes())));
    return out;
  }

  private List<TreeNode> nodesOf(ActorRef<WorkerCommand> w) {
    return List.of(pool.assignment().nodesOf(w));
  }

  @Test
  void recruitsAreChosenInStableOrderUpToTheWantedCount() {
    where.put(W_D, C3);
    List<ActorRef<WorkerCommand>> chosen = pool.recruit(Set.of(W_D, W_C, W_A, W_B), 3);
    assertEquals(List.of(W_A, W_B, W_C), chosen);
    assertEquals(chosen, pool.recruits());
    assertTrue(pool.isRecruit(W_C));
    assertFalse(pool.isRecruit(W_D));
    assertEquals(B1, pool.recruitedOn(W_A));
    assertEquals(C3, pool.recruitedOn(W_C));
    assertEquals(List.of(W_A, W_B), pool.recruit(Set.of(W_B, W_A), 5), "no more than are listed");
  }

  @Test
  void trainingStartsWhenEveryRecruitIsPrepared() {
    pool.recruit(Set.of(W_A, W_B), 2);
    assertFalse(pool.allPrepared());
    pool.prepared(W_A, prepared(W_A));
    assertFalse(pool.allPrepared());
    pool.prepared(W_B, prepared(W_B));
    assertTrue(pool.allPrepared());
    assertEquals(name(W_A), pool.nameOf(W_A));
    assertEquals(W_C.path().toString(), pool.nameOf(W_C), "not prepared: its path");
  }

  @Test
  void eachRoundEveryLiveWorkerIsSentItsBlocksAndOnlyThoseResultsAreExpected() {
    training(List.of(W_A, W_B, W_C));
    Assignment plan = Assignment.of(TREE, List.of(W_A, W_B, W_C));

    var work = byWorker(pool.dispatchRound(0, TREE, PROBATION));

    assertEquals(List.of(W_A, W_B, W_C), List.copyOf(work.keySet()));
    for (ActorRef<WorkerCommand> w : List.of(W_A, W_B, W_C)) {
      assertEquals(List.of(plan.nodesOf(w)), work.get(w));
    }
    TreeNode ofA = work.get(W_A).get(0);
    assertTrue(pool.expected(0, name(W_A), ofA));
    assertFalse(pool.expected(0, name(W_B), ofA), "B was not sent A's work");
    assertFalse(pool.expected(1, name(W_A), ofA), "another round");
    assertEquals(work, byWorker(pool.dispatchRound(1, TREE, PROBATION)), "the same blocks");
    assertFalse(pool.expected(0, name(W_A), ofA), "a new round forgets the last one's");
  }

  @Test
  void aMissedDeadlineRedispatchesTheUndeliveredWorkToTheOthersAndSuspectsTheLate() {
    training(List.of(W_A, W_B, W_C));
    pool.dispatchRound(0, TREE, PROBATION);
    List<TreeNode> late = new ArrayList<>(nodesOf(W_B));
    late.addAll(nodesOf(W_C));

    WorkerPool.Redispatch r = pool.missedDeadline(0, delivered(0, nodesOf(W_A)));

    assertEquals(late, r.missing());
    assertEquals(List.of(name(W_B), name(W_C)), r.late());
    assertEquals(List.of(W_A), r.helpers());
    assertEquals(List.of(W_A), pool.active());
    var next = byWorker(pool.dispatchRound(1, TREE, PROBATION));
    assertEquals(List.of(W_A), List.copyOf(next.keySet()), "suspects sit out");
    assertEquals(List.of(TREE.root()), next.get(W_A), "A alone computes the whole tree");
  }

  @Test
  void aSecondMissOfTheSameRoundRedispatchesAgainWithoutNewSuspects() {
    training(List.of(W_A, W_B, W_C));
    pool.dispatchRound(0, TREE, PROBATION);
    RoundState onlyA = delivered(0, nodesOf(W_A));
    WorkerPool.Redispatch first = pool.missedDeadline(0, onlyA);

    WorkerPool.Redispatch second = pool.missedDeadline(0, onlyA);

    assertEquals(first.missing(), second.missing());
    assertEquals(List.of(), second.late(), "suspects already");
    assertEquals(List.of(W_A), second.helpers());
  }

  @Test
  void aMissedDeadlineWithNobodyElseToHelpRedispatchesNothing() {
    training(List.of(W_A, W_B));
    pool.dispatchRound(0, TREE, PROBATION);

    assertNull(
        pool.missedDeadline(0, delivered(0, List.of())),
        "every worker is late: the work stays where it is");
    assertEquals(List.of(W_A, W_B), pool.active(), "with every worker suspect, all are active");
  }

  @Test
  void aCompleteRoundHasNothingToRedispatch() {
    training(List.of(W_A, W_B));
    pool.dispatchRound(0, TREE, PROBATION);
    assertNull(pool.missedDeadline(0, delivered(0, List.of(TREE.root()))));
    assertEquals(List.of(W_A, W_B), pool.active(), "nobody was late");
  }

  @Test
  void aSuspectGetsWorkAgainAfterItsProbationOrItsNextGoodResult() {
    training(List.of(W_A, W_B, W_C));
    pool.dispatchRound(0, TREE, PROBATION);
    pool.missedDeadline(0, delivered(0, nodesOf(W_A)));
    assertEquals(Set.of(W_A), byWorker(pool.dispatchRound(2, TREE, PROBATION)).keySet());
    assertEquals(
        Set.of(W_A, W_B, W_C),
        byWorker(pool.dispatchRound(3, TREE, PROBATION)).keySet(),
        "round 3 is three rounds after the miss");

    pool.missedDeadline(3, delivered(3, nodesOf(W_A)));
    pool.delivered(name(W_C));
    assertEquals(
        List.of(W_A, W_C),
        List.copyOf(byWorker(pool.dispatchRound(4, TREE, PROBATION)).keySet()),
        "C answered late: back from the next round");
  }

  @Test
  void theLossOfANodeIncarnationRedispatchesWhatItsWorkersHadNotDelivered() {
    training(List.of(W_A, W_B, W_C));
    pool.dispatchRound(0, TREE, PROBATION);
    List<TreeNode> ofB = nodesOf(W_B);

    assertTrue(pool.lost(B1));
    WorkerPool.Loss loss = pool.loseLive(B1, delivered(0, nodesOf(W_A)));

    assertEquals(List.of(W_A, W_B), loss.gone());
    assertEquals(ofB, loss.missing(), "A delivered before its node was lost");
    assertFalse(loss.noneLeft());
    assertEquals(List.of(W_C), pool.live());
    var handed = byWorker(pool.handOut(loss.missing(), pool.active()));
    assertEquals(Map.of(W_C, ofB), handed);
    assertTrue(pool.expected(0, name(W_C), ofB.get(0)));
    assertEquals(Set.of(W_C), byWorker(pool.dispatchRound(1, TREE, PROBATION)).keySet());
  }

  @Test
  void theSameLossHeardAgainIsNoNews() {
    training(List.of(W_A, W_C));
    assertTrue(pool.lost(B1), "unreachable");
    assertFalse(pool.lost(B1), "then downed");
    pool.removed(B1);
    assertFalse(pool.lost(B1), "then removed");
  }

  @Test
  void theLossOfTheLastLiveWorkersNodeLeavesThemInPlaceAndSaysSo() {
    training(List.of(W_A, W_B));
    pool.dispatchRound(0, TREE, PROBATION);

    pool.lost(B1);
    WorkerPool.Loss loss = pool.loseLive(B1, delivered(0, List.of()));

    assertTrue(loss.noneLeft());
    assertEquals(List.of(W_A, W_B), loss.gone());
    assertEquals(List.of(W_A, W_B), pool.live());
  }

  @Test
  void theLossOfANodeWithoutLiveWorkersChangesNothing() {
    training(List.of(W_A, W_B));
    UniqueAddress elsewhere =
        new UniqueAddress(new Address("pekko", "anvil", "127.0.0.1", 2599), 9);
    assertTrue(pool.lost(elsewhere));
    assertNull(pool.loseLive(elsewhere, delivered(0, List.of())));
    assertNull(
        pool.loseLive(B2, delivered(0, List.of())),
        "another incarnation at B's host:port is not B1");
    assertEquals(List.of(W_A, W_B), pool.live());
  }

  @Test
  void aLostWorkerIsNoSuspectAnyMoreWhenItsNodeComesBack() {
    training(List.of(W_A, W_B, W_C));
    pool.dispatchRound(0, TREE, PROBATION);
    List<TreeNode> ofAb = new ArrayList<>(nodesOf(W_A));
    ofAb.addAll(nodesOf(W_B));
    RoundState fromB1 = delivered(0, ofAb);
    assertEquals(List.of(name(W_C)), pool.missedDeadline(0, fromB1).late());

    pool.lost(C3);
    pool.loseLive(C3, fromB1);
    pool.back(C3);
    assertEquals(List.of(W_C), pool.joiners(Set.of(W_C), 3));
    assertTrue(pool.admit(W_C, prepared(W_C), pool.joinerAnswered(W_C)));

    assertEquals(List.of(W_A, W_B, W_C), pool.active());
  }

  @Test
  void aLeavingNodesWorkersTakeNoMoreWorkAndNothingIsRedispatched() {
    training(List.of(W_A, W_B, W_C));
    var before = byWorker(pool.dispatchRound(0, TREE, PROBATION));

    assertTrue(pool.lost(B1));
    assertEquals(List.of(W_A, W_B), pool.retire(B1));

    assertEquals(List.of(W_C), pool.live());
    assertTrue(
        pool.expected(0, name(W_A), before.get(W_A).get(0)),
        "their results of this round still count");
    assertEquals(
        Map.of(W_C, List.of(TREE.root())), byWorker(pool.dispatchRound(1, TREE, PROBATION)));
  }

  @Test
  void aLeavingNodeWithEveryLiveWorkerIsLeftToTheDeadline() {
    training(List.of(W_A, W_B));
    assertEquals(List.of(), pool.retire(B1));
    assertEquals(List.of(W_A, W_B), pool.live());
    assertEquals(List.of(), pool.retire(C3), "none of ours there");
  }

  @Test
  void joinersAreAdmittedOnALiveIncarnationNeverOnALostOne() {
    training(List.of(W_A, W_C));
    pool.lost(B1);
    pool.loseLive(B1, delivered(0, List.of()));
    where.put(W_D, B1); // the lost incarnation, still in the membership
    where.put(W_E, B2); // the node started again on the same host:port

    List<ActorRef<WorkerCommand>> joiners = pool.joiners(Set.of(W_A, W_C, W_D, W_E), 3);

    assertEquals(List.of(W_E), joiners, "A and D are on the lost B1; C is live already");
    assertEquals(B2, pool.incarnationOf(W_E));
    assertEquals(List.of(), pool.joiners(Set.of(W_A, W_C, W_D, W_E), 3), "E is joining already");
    assertSame(B2, pool.joinerAnswered(W_E));
    assertTrue(pool.admit(W_E, prepared(W_E), B2));
    assertEquals(List.of(W_C, W_E), pool.live());
    assertTrue(pool.recruits().contains(W_E), "released at the end with the others");
    assertTrue(pool.rejoined(B2), "a new incarnation of a lost node");
    assertFalse(pool.rejoined(B2), "reported once");
  }

  @Test
  void joinersFillOnlyTheRoomTheJobHasInPathOrder() {
    where.put(W_D, C3);
    where.put(W_E, C3);
    training(List.of(W_A));
    assertEquals(List.of(), pool.joiners(Set.of(W_A, W_D), 1), "no room");
    assertEquals(List.of(W_D), pool.joiners(Set.of(W_E, W_D, W_A), 2));
    assertNull(pool.joinerAnswered(W_E), "E was not joining");
  }

  @Test
  void aWorkerOnNoLiveMemberIsNotAdmitted() {
    training(List.of(W_A));
    assertEquals(List.of(), pool.joiners(Set.of(W_D), 2), "D's node is not a member");
  }

  @Test
  void aJoinerWhoseNodeIsLostWhilePreparingIsGivenUp() {
    where.put(W_E, B2);
    training(List.of(W_C));
    assertEquals(List.of(W_E), pool.joiners(Set.of(W_E), 2));
    pool.lost(B2);
    assertNull(pool.joinerAnswered(W_E), "its node was lost: not joining any more");

    where.put(W_D, C3);
    assertEquals(List.of(W_D), pool.joiners(Set.of(W_D), 2));
    UniqueAddress node = pool.joinerAnswered(W_D);
    pool.lost(C3);
    assertFalse(pool.admit(W_D, prepared(W_D), node), "lost between its answer and admission");
    assertEquals(List.of(W_C), pool.live());
  }

  @Test
  void aJoinerThatCannotPrepareMakesRoomForAnother() {
    where.put(W_D, C3);
    where.put(W_E, C3);
    training(List.of(W_A));
    assertEquals(List.of(W_D), pool.joiners(Set.of(W_D, W_E), 2));
    pool.joinFailed(W_D.path().address().hostPort() + "/" + W_D.path().name());
    assertEquals(List.of(W_D), pool.joiners(Set.of(W_D, W_E), 2), "D may be asked again");
  }

  @Test
  void aNodeReachableAgainWasNotLost() {
    training(List.of(W_A, W_C));
    pool.lost(B1);
    pool.back(B1);
    where.put(W_D, B1);
    assertEquals(List.of(W_D), pool.joiners(Set.of(W_D), 3));
    assertFalse(pool.rejoined(B1), "it never left");
  }

  @Test
  void aRemovedIncarnationNeverComesBackButItsSuccessorIsARejoin() {
    training(List.of(W_A, W_C));
    pool.lost(B1);
    pool.loseLive(B1, delivered(0, List.of()));
    pool.removed(B1);
    where.put(W_D, B1);
    where.put(W_E, B2);
    assertEquals(List.of(W_E), pool.joiners(Set.of(W_D, W_E), 4));
    assertTrue(pool.rejoined(B2));
    where.remove(W_A);
    assertNull(pool.incarnationOf(W_A), "a removed node's workers are forgotten when not live");
  }

  @Test
  void aNodeLostByAnEarlierIncarnationIsARejoinWhenItsSuccessorComes() {
    pool =
        new WorkerPool(
            List.of(
                Recovery.seen(
                    "node-downed",
                    "127.0.0.1:2552 (uid 1) downed" + " in round 9, 2 workers",
                    0,
                    1,
                    1,
                    2)),
            where::get);
    assertTrue(pool.rejoined(B2));
    assertTrue(pool.firstFrom(C3));
    assertFalse(pool.firstFrom(C3), "once per host:port");
  }

  @Test
  void aBadResultsSenderSitsOutAndItsWorkGoesToAnotherUntilItDeliversAGoodOne() {
    training(List.of(W_A, W_B, W_C));
    pool.dispatchRound(0, TREE, PROBATION);

    pool.suspect(name(W_B), 0);
    pool.suspect("worker-unknown", 0);

    assertEquals(List.of(W_A, W_C), pool.active());
    assertEquals(List.of(W_C), pool.activeExcept(name(W_A)));
    assertEquals(Set.of(W_A, W_C), byWorker(pool.dispatchRound(1, TREE, PROBATION)).keySet());
    pool.delivered(name(W_B));
    assertEquals(List.of(W_A, W_B, W_C), pool.active());
  }

  @Test
  void aBadResultFromTheOnlyActiveWorkerGoesBackToIt() {
    training(List.of(W_A));
    pool.suspect(name(W_A), 0);
    assertEquals(List.of(W_A), pool.activeExcept(name(W_A)), "nobody else to give it to");
  }

  @Test
  void handOutSharesTheNodesRoundRobinInOrder() {
    training(List.of(W_A, W_B, W_C));
    pool.dispatchRound(0, TREE, PROBATION);
    List<TreeNode> nodes =
        List.of(
            TreeNode.leaf(0),
            TreeNode.leaf(1),
            TreeNode.leaf(2),
            TreeNode.leaf(3),
            TreeNode.leaf(4));

    List<WorkerPool.Dispatch> work = pool.handOut(nodes, List.of(W_C, W_A));

    assertEquals(List.of(W_C, W_A), work.stream().map(WorkerPool.Dispatch::worker).toList());
    assertArrayEquals(
        new TreeNode[] {TreeNode.leaf(0), TreeNode.leaf(2), TreeNode.leaf(4)}, work.get(0).nodes());
    assertArrayEquals(new TreeNode[] {TreeNode.leaf(1), TreeNode.leaf(3)}, work.get(1).nodes());
    assertTrue(pool.expected(0, name(W_A), TreeNode.leaf(3)));
    assertFalse(pool.expected(0, name(W_A), TreeNode.leaf(4)));
  }

  @Test
  void aWorkerMissingItsParametersIsSentItsBlocksAgain() {
    training(List.of(W_A, W_B));
    pool.dispatchRound(0, TREE, PROBATION);
    List<WorkerPool.Dispatch> again = pool.named(name(W_B));
    assertEquals(1, again.size());
    assertEquals(W_B, again.get(0).worker());
    assertEquals(nodesOf(W_B), Arrays.asList(again.get(0).nodes()));
    assertEquals(List.of(), pool.named("worker-unknown"));
  }

  @Test
  void placementCountsWorkersByNodeIncarnationInAddressOrder() {
    where.put(W_D, B2);
    training(List.of(W_A, W_B, W_C, W_D));
    Map<UniqueAddress, Integer> byNode = pool.byNode(pool.live());
    assertEquals(List.of(B1, B2, C3), List.copyOf(byNode.keySet()));
    assertEquals(List.of(2, 1, 1), List.copyOf(byNode.values()));
    where.remove(W_E);
    assertEquals(Map.of(), pool.byNode(List.of(W_E)), "on no member: not counted");
  }

  @Test
  void beforeTrainingALostNodesUnpreparedRecruitsAreDropped() {
    pool.recruit(Set.of(W_A, W_B, W_C), 3);
    pool.prepared(W_A, prepared(W_A));

    assertTrue(pool.dropUnprepared(B1));
    assertEquals(List.of(W_A, W_C), pool.recruits(), "A is prepared: it stays");
    assertFalse(pool.allPrepared());
    pool.prepared(W_C, prepared(W_C));
    assertTrue(pool.allPrepared());
  }

  @Test
  void beforeTrainingLosingEveryRecruitLeavesNone() {
    pool.recruit(Set.of(W_A, W_B), 2);
    assertFalse(pool.dropUnprepared(B1));
    assertEquals(List.of(), pool.recruits());
  }

  @Test
  void aRecruitOnNoKnownMemberIsMatchedToALostNodeByAddress() {
    ActorRef<WorkerCommand> local = worker("f");
    pool.recruit(Set.of(local), 1);
    assertNull(pool.recruitedOn(local));
    UniqueAddress here = new UniqueAddress(local.path().address(), 42);
    assertFalse(pool.dropUnprepared(here), "its address is the lost node's");
  }
}
