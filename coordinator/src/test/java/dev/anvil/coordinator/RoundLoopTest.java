package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.coordinator.RoundLoop.Next;
import dev.anvil.coordinator.RoundState.Outcome;
import dev.anvil.core.checkpoint.Checkpoint;
import dev.anvil.core.data.Digests;
import dev.anvil.core.protocol.TrainingProtocol.NodeResult;
import dev.anvil.core.train.BlockPlan;
import dev.anvil.core.train.DivergedException;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.GradientBuffers;
import dev.anvil.core.train.GradientSum;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.ShardComputer;
import dev.anvil.core.train.TrainingListener;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.core.train.TrainingState;
import dev.anvil.core.train.TreeNode;
import dev.anvil.persistence.CheckpointStore.RoundGradient;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The training arithmetic and what follows each round: a round reduced in tree order and applied
 * gives the reference trainer's bits whatever the arrival order, a logged round replays to the same
 * bits, and {@link RoundLoop#next}'s decision table.
 */
class RoundLoopTest {
  private static final String FIVE_ROUNDS = "rounds = 5";

  /** The results of the loop's current round from {@code workers} workers, as they send them. */
  private static List<NodeResult> results(PreparedJob job, TrainingState state, int workers) {
    ShardComputer computer =
        new ShardComputer(job, new GradientBuffers(job.model().parameterCount(), 8));
    List<NodeResult> out = new ArrayList<>();
    for (List<TreeNode> block : BlockPlan.balanced(job.tree(), workers)) {
      for (TreeNode node : block) {
        GradientSum s = computer.compute(state.params(), state.round(), node);
        out.add(
            new NodeResult(
                "j",
                1,
                state.round(),
                node,
                s.grad().clone(),
                s.lossSum(),
                s.samples(),
                "worker-" + out.size(),
                1_000));
      }
    }
    return out;
  }

  /** The round's total as core reduces it, from copies of the results. */
  private static GradientSum reduced(PreparedJob job, List<NodeResult> results) {
    TreeMap<TreeNode, GradientSum> sums = new TreeMap<>();
    results.forEach(
        r -> sums.put(r.node(), new GradientSum(r.grad().clone(), r.lossSum(), r.samples())));
    return job.tree().reduce(sums::get);
  }

  /** Gives the loop its current round's results, newest block first, and steps it. */
  private static RoundLoop.Step computeRound(RoundLoop loop, boolean log) throws DivergedException {
    loop.startRound();
    List<NodeResult> results = results(loop.job(), loop.state(), 3);
    Collections.reverse(results);
    for (NodeResult r : results) {
      assertFalse(loop.complete());
      assertEquals(Outcome.ACCEPTED, loop.accept(r));
    }
    assertTrue(loop.complete());
    return loop.step(log);
  }

  private static RoundGradient gradient(PreparedJob job, long round, double loss) {
    float[] g = new float[job.model().parameterCount()];
    Arrays.fill(g, 0.01f * round);
    return new RoundGradient(round, g, loss * 24, 24);
  }

  /** A loop of {@code job} that replayed rounds 1, 2, ... with {@code losses}. */
  private static RoundLoop replayed(PreparedJob job, double... losses) throws DivergedException {
    RoundLoop loop = new RoundLoop(job);
    for (double loss : losses) {
      loop.replay(gradient(job, loop.done() + 1, loss));
    }
    return loop;
  }

  @Test
  void roundsAppliedInTreeOrderGiveTheReferenceTrainersBits() throws Exception {
    TrainingResult reference =
        new LocalTrainer(SmallJob.prepared(FIVE_ROUNDS), 2, TrainingListener.NONE).run(0);
    RoundLoop loop = new RoundLoop(SmallJob.prepared(FIVE_ROUNDS));

    while (!loop.finished()) {
      RoundLoop.Step step = computeRound(loop, false);
      loop.counted(step.loss());
    }

    assertEquals(5, loop.done());
    assertEquals(reference.paramsSha256(), Digests.sha256(loop.state().params()));
    assertEquals(1, reference.history().size(), "one report, at the end (5 rounds < an epoch)");
    assertEquals(
        reference.history().get(0).trainLoss(),
        loop.takeTrainingEpochLoss(),
        "the mean of the same losses, summed in the same order");
  }

  @Test
  void aStepIsCoresParameterUpdateOfTheTreeReducedSum() throws Exception {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    List<NodeResult> results = results(job, job.initialState(), 2);
    GradientSum total = reduced(job, results);
    TrainingState expected =
        job.newParameterUpdate().apply(job.initialState(), reduced(job, results));
    RoundLoop loop = new RoundLoop(job);
    loop.startRound();
    results.forEach(loop::accept);

    RoundLoop.Step step = loop.step(false);

    assertArrayEquals(expected.params(), loop.state().params());
    assertEquals(expected.optimizer(), loop.state().optimizer());
    assertEquals(1, step.round());
    assertEquals(total.lossSum() / total.samples(), step.loss());
    assertEquals(24, step.samples());
    assertEquals(step.loss(), loop.lastLoss());
    assertNull(step.logged(), "not asked to keep the gradient");
  }

  @Test
  void aLoggedStepKeepsTheSumBeforeTheUpdateConsumesItAndReplaysToTheSameBits() throws Exception {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    RoundLoop computed = new RoundLoop(job);
    RoundLoop replayed = new RoundLoop(SmallJob.prepared(FIVE_ROUNDS));
    for (int i = 0; i < 3; i++) {
      GradientSum total = reduced(job, results(job, computed.state(), 3));
      RoundLoop.Step step = computeRound(computed, true);
      computed.counted(step.loss());

      RoundGradient logged = step.logged();
      assertEquals(i + 1, logged.round());
      assertArrayEquals(total.grad(), logged.gradient(), "the sum, not the mean");
      assertEquals(total.lossSum(), logged.lossSum());
      assertEquals(total.samples(), logged.samples());
      replayed.replay(logged);
    }
    assertEquals(3, replayed.done());
    assertArrayEquals(computed.state().params(), replayed.state().params());
    assertEquals(computed.state().optimizer(), replayed.state().optimizer());
    assertEquals(computed.lastLoss(), replayed.lastLoss());
    assertEquals(computed.takeTrainingEpochLoss(), replayed.takeTrainingEpochLoss());
  }

  @Test
  void resultsOfAnotherRoundOrForCoveredShardsAreNotTaken() {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    RoundLoop loop = new RoundLoop(job);
    loop.startRound();
    NodeResult r = results(job, job.initialState(), 2).get(0);
    NodeResult older =
        new NodeResult("j", 1, 7, r.node(), r.grad(), r.lossSum(), r.samples(), r.worker(), 0);
    assertEquals(Outcome.STALE, loop.accept(older));
    assertEquals(Outcome.ACCEPTED, loop.accept(r));
    assertEquals(Outcome.DUPLICATE, loop.accept(r));
    assertFalse(loop.round().complete(), "the other worker's half is missing");
  }

  @Test
  void aNonFiniteSumDivergesAndLeavesTheStateAsItWas() {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    RoundLoop loop = new RoundLoop(job);
    float[] before = loop.state().params().clone();
    RoundGradient bad =
        new RoundGradient(1, new float[job.model().parameterCount()], Double.NaN, 24);
    assertThrows(DivergedException.class, () -> loop.replay(bad));
    assertEquals(0, loop.done());
    assertArrayEquals(before, loop.state().params());
  }

  @Test
  void anEvaluationIsDueAtEachEpochsEndAndAtTheJobsEnd() throws Exception {
    long perEpoch = SmallJob.prepared("epochs = 1").roundsPerEpoch();
    assertTrue(perEpoch >= 2, "an epoch of several rounds: " + perEpoch);
    PreparedJob job = SmallJob.prepared("rounds = " + (2 * perEpoch + 1));
    RoundLoop loop = new RoundLoop(job);
    List<Long> due = new ArrayList<>();
    while (!loop.finished()) {
      loop.replay(gradient(job, loop.done() + 1, 1));
      if (loop.evaluationDue()) {
        due.add(loop.done());
      }
    }
    assertEquals(List.of(perEpoch, 2 * perEpoch, 2 * perEpoch + 1), due);
  }

  @Test
  void theEpochsLossIsTheMeanOfItsRoundsAndStartsAgainAfterItIsTaken() throws Exception {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    RoundLoop loop = replayed(job, 1, 2, 6);
    assertEquals(6, loop.lastLoss());
    assertEquals(3, loop.takeTrainingEpochLoss());
    loop.replay(gradient(job, 4, 0.5));
    assertEquals(0.5, loop.takeTrainingEpochLoss());
  }

  @Test
  void aCaptureIsACopyThatTrainingDoesNotChange() throws Exception {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    RoundLoop loop = replayed(job, 1, 2);
    float[] atTwo = loop.state().params().clone();

    CheckpointPipeline.Captured c = loop.capture();
    loop.replay(gradient(job, 3, 3));

    assertEquals(2, c.state().round());
    assertArrayEquals(atTwo, c.state().params());
    assertEquals(2, c.loss());
    assertEquals(3, c.epochLossSum());
    assertEquals(2, c.epochRounds());
    assertEquals(2, c.state().optimizer().steps());
  }

  @Test
  void aRestoredCheckpointContinuesItsEpoch() throws Exception {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    RoundLoop source = replayed(job, 1, 3);
    CheckpointPipeline.Captured c = source.capture();
    EpochReport report = new EpochReport(0.5, 2, 2, 2.5, 0.25);
    RoundLoop loop = new RoundLoop(job);

    loop.restore(
        new Checkpoint(
            "j",
            "spec",
            2,
            job.dataFingerprint(),
            "java",
            c.state(),
            c.loss(),
            List.of(report),
            c.epochLossSum(),
            c.epochRounds()));
    loop.replay(gradient(job, 3, 5));

    assertEquals(3, loop.done());
    assertEquals(List.of(report), loop.history());
    assertEquals(3, loop.takeTrainingEpochLoss(), "(1 + 3 + 5) / 3");
    source.replay(gradient(job, 3, 5));
    assertArrayEquals(source.state().params(), loop.state().params());
  }

  @Test
  void theHistoryIsKeptInRoundOrderAndACheckpointTakesTheReportsUpToItsRound() {
    RoundLoop loop = new RoundLoop(SmallJob.prepared(FIVE_ROUNDS));
    EpochReport second = new EpochReport(2, 20, 1, 1, null);
    EpochReport first = new EpochReport(1, 10, 2, 2, null);
    EpochReport third = new EpochReport(3, 30, 0.5, 0.5, null);
    loop.evaluated(second);
    loop.evaluated(third);
    loop.evaluated(first);
    assertEquals(List.of(first, second, third), loop.history());
    assertEquals(List.of(first, second), loop.historyThrough(29));
    assertEquals(List.of(first, second), loop.historyThrough(20));
    assertEquals(List.of(), loop.historyThrough(9));
  }

  @Test
  void nextGoesOnWithTheNextRoundOrFinishes() {
    assertEquals(Next.ROUND, RoundLoop.next(5, 10, 0, false, false, false));
    assertEquals(Next.FINISH, RoundLoop.next(10, 10, 0, false, false, false));
  }

  @Test
  void nextPausesAtARoundBoundaryOnlyAfterTheReplayAndBeforeTheEnd() {
    assertEquals(Next.PAUSE, RoundLoop.next(5, 10, 0, true, false, false));
    assertEquals(
        Next.ROUND,
        RoundLoop.next(3, 10, 5, true, false, false),
        "the replay restores the committed rounds first");
    assertEquals(Next.PAUSE, RoundLoop.next(5, 10, 5, true, false, false));
    assertEquals(
        Next.FINISH, RoundLoop.next(10, 10, 0, true, false, false), "nothing left to pause");
    assertEquals(
        Next.PAUSE,
        RoundLoop.next(5, 10, 0, true, true, true),
        "a pause goes before a stall and a cancel");
  }

  @Test
  void nextStallsANewRoundTooFarAheadOfTheJournal() {
    assertEquals(Next.STALL, RoundLoop.next(5, 10, 0, false, true, false));
    assertEquals(Next.STALL, RoundLoop.next(5, 10, 0, false, true, true), "before a cancel");
    assertEquals(
        Next.ROUND,
        RoundLoop.next(5, 10, 5, false, true, false),
        "replayed rounds are durable already");
  }

  @Test
  void nextSendsNothingMoreWhileACancelIsRecorded() {
    assertEquals(Next.HOLD, RoundLoop.next(5, 10, 0, false, false, true));
    assertEquals(
        Next.HOLD,
        RoundLoop.next(10, 10, 0, false, false, true),
        "a cancelled job does not finish");
    assertEquals(Next.HOLD, RoundLoop.next(3, 10, 5, false, false, true));
  }

  @Test
  void nextFinishesTheLastRoundEvenWhenTheJournalIsFarBehind() {
    assertEquals(
        Next.FINISH,
        RoundLoop.next(10, 10, 0, false, true, false),
        "a stall is lifted only to start a round, and none is left: it would never finish");
    assertEquals(Next.HOLD, RoundLoop.next(10, 10, 0, false, true, true));
  }

  @Test
  void aRoundIsAppliedOnceThoughALateResultForItArrivesBeforeTheNextStarts() throws Exception {
    PreparedJob job = SmallJob.prepared(FIVE_ROUNDS);
    RoundLoop loop = new RoundLoop(job);
    loop.startRound();
    List<NodeResult> results = results(job, job.initialState(), 2);
    results.forEach(loop::accept);
    assertTrue(loop.complete());
    loop.step(false);
    float[] applied = loop.state().params().clone();

    assertEquals(
        Outcome.DUPLICATE,
        loop.accept(results.get(0)),
        "the slow first result of work re-dispatched, while the loop waits for the journal");

    assertFalse(loop.complete(), "the round was applied: it is not stepped again");
    var e = assertThrows(IllegalStateException.class, () -> loop.step(false));
    assertEquals("round 1 was applied already", e.getMessage());
    assertEquals(1, loop.done());
    assertArrayEquals(applied, loop.state().params());
    assertTrue(loop.round().complete(), "its shards still count as delivered");
    loop.startRound();
    assertFalse(loop.complete());
    assertThrows(IllegalStateException.class, () -> loop.step(false), "round 2 is not complete");
  }
}
