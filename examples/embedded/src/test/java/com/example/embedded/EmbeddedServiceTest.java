package com.example.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.train.LocalTrainer;
import dev.anvil.core.train.PreparedJob;
import dev.anvil.core.train.TrainingListener;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.runtime.node.JobHandle;
import dev.anvil.runtime.node.JobListener;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded service trains its own model through the embedding API, hears its progress, ends
 * with the reference trainer's bits, and leaves the cluster gracefully on close.
 */
class EmbeddedServiceTest {
  @TempDir Path dir;

  @Test
  void trainsItsOwnModelWithTheReferenceBitsAndLeavesGracefully() throws Exception {
    List<Long> rounds = new ArrayList<>();
    List<String> coordinators = Collections.synchronizedList(new ArrayList<>());
    TrainingResult result;
    EmbeddedService service = EmbeddedService.start(dir);
    Cluster cluster = Cluster.get(service.node().system());
    try {
      result =
          service.train(
              new JobListener() {
                @Override
                public void onProgress(
                    long round, long total, double loss, double samplesPerSecond) {
                  synchronized (rounds) {
                    rounds.add(round);
                  }
                }

                @Override
                public void onCoordinator(String node, boolean recovery) {
                  coordinators.add(node + (recovery ? " (recovered)" : ""));
                }
              },
              Duration.ofMinutes(3));
    } finally {
      service.close();
    }
    TrainingResult reference =
        new LocalTrainer(PreparedJob.prepare(service.spec(), "ref"), 1, TrainingListener.NONE)
            .run(0);
    assertEquals(reference.paramsSha256(), result.paramsSha256());
    assertEquals(reference.rounds(), result.rounds());
    assertTrue(result.model().contains("the service's own"), result.model());
    assertTrue(result.testAccuracy() > 0.5, "accuracy " + result.testAccuracy());
    assertEquals(result.rounds(), (long) rounds.get(rounds.size() - 1));
    assertEquals(List.of(service.node().address().replaceFirst("^anvil@", "")), coordinators);
    assertEquals(2, result.workers());
    assertFalse(
        cluster.selfMember().status() == MemberStatus.up(),
        "the node left the cluster on close: " + cluster.selfMember().status());
  }

  @Test
  void aJobCanBePausedResumedAndCancelledThroughItsHandle() throws Exception {
    try (EmbeddedService service = EmbeddedService.start(dir)) {
      CompletableFuture<Long> paused = new CompletableFuture<>();
      CompletableFuture<Long> round100 = new CompletableFuture<>();
      JobListener listener =
          new JobListener() {
            @Override
            public void onProgress(long round, long total, double loss, double samplesPerSecond) {
              if (round >= 100) {
                round100.complete(round);
              }
            }

            @Override
            public void onPaused(long round) {
              paused.complete(round);
            }
          };
      JobHandle job = service.node().submit("paused", service.spec(), 2, listener);
      round100.get(60, TimeUnit.SECONDS);
      job.pause().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertTrue(paused.get(5, TimeUnit.SECONDS) >= 100);
      assertFalse(job.result().toCompletableFuture().isDone());
      job.resume().toCompletableFuture().get(60, TimeUnit.SECONDS);
      TrainingResult resumed = job.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
      TrainingResult reference =
          new LocalTrainer(PreparedJob.prepare(service.spec(), "ref"), 1, TrainingListener.NONE)
              .run(0);
      assertEquals(reference.paramsSha256(), resumed.paramsSha256());

      JobHandle doomed = service.node().submit("doomed", service.spec(), 2, JobListener.NONE);
      doomed.cancel("not needed").toCompletableFuture().get(60, TimeUnit.SECONDS);
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () -> doomed.result().toCompletableFuture().get(60, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof JobHandle.JobFailedException, e::toString);
      assertTrue(e.getCause().getMessage().contains("not needed"), e.getCause()::getMessage);
    }
  }
}
