package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.launcher.FollowedJob;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on a real cluster of separate node JVMs ends with the same parameters, bit for bit, as
 * the single-process reference trainer, whatever the number of workers.
 */
class DistributedTrainingTest {
  @TempDir static Path dir;
  static LocalCluster cluster;

  static JobSpec job(String name, long seed) {
    return JobSpecParser.parse(
        """
        job {
          name = "%s", seed = %d
          model { type = mlp, layers = [12, 16, 3], activation = tanh }
          data { type = synthetic, samples = 3000, features = 12, classes = 3, seed = 4 }
          optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
          batch-size = 64, logical-shards = 8, rounds = 60, kernel = java
        }
        """
            .formatted(name, seed),
        name,
        null);
  }

  @BeforeAll
  static void start() {
    cluster = LocalCluster.start(LocalClusterSettings.of(2, 2, dir));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static JsonNode train(String jobId, JobSpec spec, int workers) throws Exception {
    return FollowedJob.submit(cluster, jobId, spec, workers).awaitResult(Duration.ofSeconds(40));
  }

  @Test
  void twoJobsAtOnceEndWithTheirSoloHashes() throws Exception {
    JobSpec a = job("both-a", 11);
    JobSpec b = job("both-b", 12);
    FollowedJob first = FollowedJob.submit(cluster, "both-a", a, 2);
    FollowedJob second = FollowedJob.submit(cluster, "both-b", b, 3);
    JsonNode ra = first.awaitResult(Duration.ofSeconds(60));
    JsonNode rb = second.awaitResult(Duration.ofSeconds(60));
    assertEquals(TestJobs.referenceHash(a), ra.get("paramsSha256").asText());
    assertEquals(TestJobs.referenceHash(b), rb.get("paramsSha256").asText());
  }

  /** Over a million parameters cross the wire to and from workers on the other JVM. */
  @Test
  void millionParameterModelTrainsAcrossJvms() throws Exception {
    JobSpec spec =
        JobSpecParser.parse(
            """
        job {
          name = "big", seed = 5
          model { type = mlp, layers = [16, 1024, 1024, 4] }
          data { type = synthetic, samples = 800, features = 16, classes = 4, seed = 1 }
          optimizer { type = sgd, learning-rate = 0.01 }
          batch-size = 32, logical-shards = 4, rounds = 3, kernel = java
        }
        """,
            "big",
            null);
    JsonNode r = train("big", spec, 4);
    assertTrue(r.get("model").asText().contains("(1071108 parameters)"), r.get("model").asText());
    assertEquals(2, r.get("nodes").asInt());
    assertEquals(TestJobs.referenceHash(spec), r.get("paramsSha256").asText());
    assertEquals(3, r.get("dataPlaneRounds").asLong(), r::toString);
  }

  @Test
  void invalidSpecIsRejectedByTheCoordinator() throws Exception {
    JobSpec spec = job("bad-layers", 1);
    JobSpec wrong =
        new JobSpec(
            spec.name(),
            spec.seed(),
            new dev.anvil.core.spec.ModelSpec.Mlp(
                java.util.List.of(13, 16, 3), dev.anvil.core.spec.Activation.TANH),
            spec.data(),
            spec.optimizer(),
            spec.schedule(),
            spec.clipNorm(),
            spec.batchSize(),
            spec.logicalShards(),
            spec.length(),
            spec.kernel(),
            spec.checkpoint());
    FollowedJob.Ending end =
        FollowedJob.submit(cluster, "bad-layers", wrong, 2).awaitEnding(Duration.ofSeconds(60));
    assertEquals(FollowedJob.Ending.Kind.FAILED, end.kind(), end::toString);
    assertTrue(
        end.reason().contains("job.model.layers[0] = 13: must equal the data's 12" + " features"),
        end.reason());
  }

  @Test
  void everyWorkerCountOnTwoJvmsGivesTheReferenceHash() throws Exception {
    JobSpec spec = job("dist", 1);
    String reference = TestJobs.referenceHash(spec);
    for (int workers = 1; workers <= 4; workers++) {
      JsonNode r = train("dist-" + workers, spec, workers);
      assertEquals(reference, r.get("paramsSha256").asText(), workers + " workers");
      assertEquals(workers, r.get("workers").asInt());
      assertEquals(workers <= 2 ? 1 : 2, r.get("nodes").asInt(), "nodes used by " + workers);
      assertEquals(60, r.get("rounds").asLong());
      // Every round summed by the workers on the data plane, none through the coordinator;
      // workers all in the coordinator's JVM (one or two of them may be) keep to Artery.
      long plane = r.get("dataPlaneRounds").asLong();
      assertTrue(plane == 60 || (workers <= 2 && plane == 0), r::toString);
    }
  }
}
