package dev.anvil.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.anvil.core.spec.CheckpointSpec;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.TrainingLength;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import org.junit.jupiter.api.Test;

/** The shared jobs are those their tests were written for; overrides change only what they name. */
class TestJobsTest {
  @Test
  void overridesWinOverTheJobsValuesAndLeaveTheRest() {
    JobSpec plain = TestJobs.faultJob("outage", 5000);
    JobSpec changed =
        TestJobs.faultJob("outage", 5000, "job.seed = 4", "job.checkpoint.every-rounds = 100");
    assertEquals(9, plain.seed());
    assertEquals(4, changed.seed());
    assertEquals(new CheckpointSpec(50, CheckpointSpec.Mode.SNAPSHOT), plain.checkpoint());
    assertEquals(new CheckpointSpec(100, CheckpointSpec.Mode.SNAPSHOT), changed.checkpoint());
    assertEquals(plain.model(), changed.model());
    assertEquals(plain.data(), changed.data());
    assertEquals(plain.optimizer(), changed.optimizer());
  }

  @Test
  void theFaultJobIsTheOneTheFaultTestsWereWrittenFor() {
    JobSpec written =
        JobSpecParser.parse(
            """
        job {
          name = "coordinator-loss", seed = 9
          model { type = mlp, layers = [24, 256, 4] }
          data { type = synthetic, samples = 6000, features = 24, classes = 4, seed = 3 }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          batch-size = 96, logical-shards = 12, rounds = 6000, kernel = java
          checkpoint { every-rounds = 50, mode = snapshot }
        }
        """,
            "coordinator-loss",
            null);
    assertEquals(written, TestJobs.faultJob("coordinator-loss", 6000));
  }

  @Test
  void theSmallJobTextParsesWithItsNameAndRounds() {
    JobSpec small =
        JobSpecParser.parse(
            TestJobs.smallJobText("small", 1500, "job.checkpoint.every-rounds = 100"),
            "small",
            null);
    assertEquals("small", small.name());
    assertEquals(new TrainingLength.Rounds(1500), small.length());
    assertEquals(100, small.checkpoint().everyRounds());
  }

  @Test
  void theReferenceHashIsTheHashOfAnyWorkerCount() {
    JobSpec spec = TestJobs.chaosJob("reference", 40);
    String threeWorkers =
        new LocalTrainer(PreparedJob.prepare(spec, "three"), 3, TrainingListener.NONE)
            .run(0)
            .paramsSha256();
    assertEquals(threeWorkers, TestJobs.referenceHash(spec));
  }
}
