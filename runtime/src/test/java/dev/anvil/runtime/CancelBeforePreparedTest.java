package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.anvil.core.protocol.TrainingProtocol;
import dev.anvil.core.protocol.TrainingProtocol.PrepareJob;
import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import dev.anvil.core.protocol.TrainingProtocol.ReleaseJob;
import dev.anvil.core.protocol.TrainingProtocol.WorkerCommand;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.client.ClusterClient;
import dev.anvil.runtime.node.JobHandle;
import dev.anvil.runtime.node.JobListener;
import dev.anvil.runtime.node.SingleNode;
import dev.anvil.runtime.node.WorkerListing;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job cancelled while one of its workers is still preparing it. The worker here is a probe on
 * another member, so that its answer comes exactly when the test says: after the cancel. The
 * coordinator once threw a NullPointerException on that late answer (and stopped); now it releases
 * the worker, and the node's workers take the next job with the reference bits.
 */
class CancelBeforePreparedTest {
  static final String SPEC =
      """
      job {
        name = "cancel-early"
        seed = 7
        model { type = mlp, layers = [32, 64, 8], activation = relu }
        data { type = synthetic, samples = 4000, features = 32, classes = 8, seed = 11 }
        optimizer { type = sgd, learning-rate = 0.05, momentum = 0.9 }
        batch-size = 128
        logical-shards = 16
        rounds = 20
        kernel = java
      }
      """;

  @TempDir Path dir;

  @Test
  void aPreparedAnswerAfterTheCancelIsReleased() throws Exception {
    JobSpec spec = JobSpecParser.parse(SPEC, "test", dir);
    try (SingleNode anvil = SingleNode.start(dir, Map.of("anvil.worker.slots", 1))) {
      var address = anvil.node().system().address();
      ActorSystem<Void> other =
          ClusterClient.join(
              List.of(address.getHost().get() + ":" + address.getPort().get()),
              Duration.ofSeconds(30),
              ConfigFactory.empty());
      try {
        TestProbe<WorkerCommand> slowWorker = TestProbe.create(other);
        other
            .receptionist()
            .tell(Receptionist.register(TrainingProtocol.WORKERS, slowWorker.ref()));
        awaitWorkersListed(anvil, 2);

        JobHandle job = anvil.node().submit("early", spec, 2, JobListener.NONE);
        PrepareJob prepare =
            slowWorker.expectMessageClass(PrepareJob.class, Duration.ofSeconds(30));
        job.cancel("changed my mind").toCompletableFuture().get(30, TimeUnit.SECONDS);
        ExecutionException e =
            assertThrows(
                ExecutionException.class,
                () -> job.result().toCompletableFuture().get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("changed my mind"), e.getCause()::getMessage);
        assertEquals(
            "early",
            slowWorker.expectMessageClass(ReleaseJob.class, Duration.ofSeconds(10)).jobId(),
            "released when the job ended");

        prepare
            .replyTo()
            .tell(
                new Prepared(
                    "early",
                    prepare.epoch(),
                    "probe/worker-0",
                    "fingerprint",
                    "canary",
                    "java",
                    slowWorker.ref(),
                    System.currentTimeMillis(),
                    null));
        assertEquals(
            "early",
            slowWorker.expectMessageClass(ReleaseJob.class, Duration.ofSeconds(10)).jobId(),
            "released again after its late Prepared");
      } finally {
        other.terminate();
        other.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      awaitWorkersListed(anvil, 1);
      var after =
          anvil
              .node()
              .submit("after", spec, 1, JobListener.NONE)
              .result()
              .toCompletableFuture()
              .get(120, TimeUnit.SECONDS);
      assertEquals(TestJobs.referenceHash(spec), after.paramsSha256());
    }
  }

  private static void awaitWorkersListed(SingleNode anvil, int count) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (WorkerListing.byNode(anvil.node().system(), Duration.ofSeconds(5)).values().stream()
            .mapToInt(Integer::intValue)
            .sum()
        != count) {
      assertTrue(
          System.nanoTime() < deadline, "the receptionist never listed " + count + " workers");
      TimeUnit.MILLISECONDS.sleep(100); // polling: the listing spreads by gossip
    }
  }
}
