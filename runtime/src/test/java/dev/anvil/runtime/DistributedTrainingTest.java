package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on a real cluster of separate node JVMs ends with the same parameters, bit for bit, as
 * the single-process reference trainer, whatever the number of workers.
 */
class DistributedTrainingTest {
  @TempDir
  static Path dir;
  static LocalCluster cluster;

  static JobSpec job(String name, long seed) {
    return JobSpecParser.parse("""
        job {
          name = "%s", seed = %d
          model { type = mlp, layers = [12, 16, 3], activation = tanh }
          data { type = synthetic, samples = 3000, features = 12, classes = 3, seed = 4 }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          batch-size = 64, logical-shards = 8, rounds = 60, kernel = java
        }
        """.formatted(name, seed), name, null);
  }

  static String referenceHash(JobSpec spec) {
    return new LocalTrainer(PreparedJob.prepare(spec, "reference"), 1, TrainingListener.NONE)
        .run(0).paramsSha256();
  }

  @BeforeAll
  static void start() {
    cluster = LocalCluster.start(LocalCluster.Settings.of(2, 2, dir));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static JsonNode train(String jobId, JobSpec spec, int workers) throws Exception {
    JobClient.Outcome outcome;
    try {
      outcome = JobClient.submit(cluster.client(), jobId, spec, workers, u -> { })
          .toCompletableFuture().get(40, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("job " + jobId + " did not end within 40 s\nnode 1:\n"
          + cluster.tail(0, 60) + "\nnode 2:\n" + cluster.tail(1, 60), e);
    }
    assertTrue(outcome.succeeded(), () -> "job failed: " + outcome.failure() + "\nnode 1:\n"
        + cluster.tail(0, 40) + "\nnode 2:\n" + cluster.tail(1, 40));
    return new ObjectMapper().readTree(outcome.resultJson());
  }

  @Test
  void everyWorkerCountOnTwoJvmsGivesTheReferenceHash() throws Exception {
    JobSpec spec = job("dist", 1);
    String reference = referenceHash(spec);
    for (int workers = 1; workers <= 4; workers++) {
      JsonNode r = train("dist-" + workers, spec, workers);
      assertEquals(reference, r.get("paramsSha256").asText(), workers + " workers");
      assertEquals(workers, r.get("workers").asInt());
      assertEquals(workers <= 2 ? 1 : 2, r.get("nodes").asInt(), "nodes used by " + workers);
      assertEquals(60, r.get("rounds").asLong());
    }
  }
}
