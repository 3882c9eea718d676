package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.core.data.Digests;
import dev.anvil.core.train.EpochReport;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.Recovery;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** What a coordinator counts while a job trains, and the result JSON it makes of it. */
class JobStatsTest {
  private static final long MS = 1_000_000;
  private static final long T0 = 10_000 * MS;
  private static final long T1 = 20_000 * MS;

  /**
   * Two rounds: the first took 8 ms (its slowest result arrived after 5 ms, 1 ms of it computing;
   * reduce and update 1 ms each), the second 4 ms (2 ms computing, 2 ms updating); two journal
   * writes of 3 and 5 ms.
   */
  private static JobStats twoRounds() {
    JobStats stats = new JobStats();
    stats.roundStarted(T0);
    stats.accepted(T0 + 3 * MS, 2 * MS);
    stats.accepted(T0 + 5 * MS, MS);
    stats.accepted(T0 + 4 * MS, 4 * MS);
    assertEquals(8 * MS, stats.roundDone(T0 + 8 * MS, MS, MS));
    stats.roundStarted(T1);
    stats.accepted(T1 + 2 * MS, 2 * MS);
    assertEquals(3 * MS, stats.roundNanos(T1 + 3 * MS));
    assertEquals(4 * MS, stats.roundDone(T1 + 4 * MS, 0, 2 * MS));
    stats.journalWrite(3 * MS);
    stats.journalWrite(5 * MS);
    return stats;
  }

  private static JsonNode parse(String json) throws Exception {
    return new ObjectMapper().readTree(json);
  }

  @Test
  void trainingTimeIsTheSumOfTheRoundsWallTimes() {
    assertEquals(12 * MS, twoRounds().trainNanos());
  }

  @Test
  void rejectedResultsAreCountedPerRoundAndInAll() {
    JobStats stats = new JobStats();
    stats.roundStarted(T0);
    assertEquals(1, stats.rejected());
    stats.roundStarted(T1);
    assertEquals(1, stats.rejected(), "a new round starts counting again");
    assertEquals(2, stats.rejected());
  }

  @Test
  void onlyTheFirstUndispatchedResultIsReported() {
    JobStats stats = new JobStats();
    assertTrue(stats.undispatched());
    assertFalse(stats.undispatched());
    assertFalse(stats.undispatched());
  }

  @Test
  void theResultHasEveryFieldWithTheCountsAndTheRoundTimeSplit() throws Exception {
    PreparedJob job = SmallJob.prepared("rounds = 4");
    JobStats stats = twoRounds();
    stats.late();
    stats.late();
    stats.roundStarted(T1);
    stats.rejected();
    stats.rejected();
    stats.rejected();
    stats.redispatched(3);
    stats.redispatched(1);
    float[] params = job.initialState().params();
    EpochReport first = new EpochReport(0.5, 2, 1.25, 1.5, 0.25);
    EpochReport last = new EpochReport(1, 4, 0.75, 1.125, 0.5);
    Recovery recovery =
        new Recovery("deadline", "round 3: [w] late", 1_000, 1_200, 1_200, 1_500, 900, 0, 0, 2);

    JsonNode r =
        parse(
            stats.resultJson(
                job.spec(),
                job,
                params,
                3,
                2,
                List.of(first, last),
                12.5,
                3,
                2,
                List.of(recovery)));

    assertEquals("small", r.path("job").asText());
    assertEquals(job.model().describe(), r.path("model").asText());
    assertEquals(11, r.path("seed").asLong());
    assertEquals("java", r.path("kernel").asText());
    assertEquals(4, r.path("rounds").asLong());
    assertEquals(4.0 / job.roundsPerEpoch(), r.path("epochs").asDouble());
    assertEquals(6, r.path("logicalShards").asInt());
    assertEquals(24, r.path("batchSize").asInt());
    assertEquals(3, r.path("workers").asInt());
    assertEquals(2, r.path("nodes").asInt());
    assertEquals(0.75, r.path("trainLoss").asDouble(), "the last report's");
    assertEquals(0.5, r.path("testAccuracy").asDouble());
    assertEquals(1.125, r.path("testLoss").asDouble());
    assertEquals(Digests.sha256(params), r.path("paramsSha256").asText());
    assertEquals(job.dataFingerprint(), r.path("dataFingerprint").asText());
    assertEquals(12.5, r.path("wallSeconds").asDouble());
    assertEquals(0.012, r.path("trainSeconds").asDouble());
    assertEquals(
        3 * 24 / 0.012,
        r.path("samplesPerSecond").asDouble(),
        "the rounds this incarnation computed over its training time");
    assertEquals(2, r.path("coordinatorEpochs").asLong());
    assertEquals(2, r.path("lateResults").asLong());
    assertEquals(3, r.path("rejectedResults").asLong());
    assertEquals(4, r.path("redispatchedTreeNodes").asLong());
    assertEquals(1, r.path("recoveries").size());
    assertEquals("deadline", r.path("recoveries").get(0).path("kind").asText());
    assertEquals(300, r.path("recoveries").get(0).path("recoveryMillis").asLong());
    assertEquals(2, r.path("history").size());
    assertEquals(4, r.path("history").get(1).path("round").asLong());
  }

  @Test
  void theRoundTimeSplitIsTheMeanOfEachPartOfARound() throws Exception {
    PreparedJob job = SmallJob.prepared("rounds = 4");
    JobStats stats = twoRounds();

    JsonNode split =
        parse(
                stats.resultJson(
                    job.spec(),
                    job,
                    job.initialState().params(),
                    1,
                    1,
                    List.of(new EpochReport(1, 4, 1, 1, null)),
                    1,
                    4,
                    1,
                    List.of()))
            .path("roundTimeSplitMs");

    Map<String, Double> means = new TreeMap<>();
    split.fields().forEachRemaining(f -> means.put(f.getKey(), f.getValue().asDouble()));
    assertEquals(
        Map.of(
            "round",
            6.0,
            "compute",
            1.5,
            "transfer",
            2.0,
            "reduce",
            0.5,
            "update",
            1.5,
            "journalWrite",
            4.0,
            "roundsPerJournalWrite",
            1.0),
        means,
        "compute and transfer are the slowest result's: 1 + 4 ms, then 2 + 0 ms");
  }
}
