package dev.anvil.runtime.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.train.TrainingResult;
import dev.anvil.testsupport.TestJobs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the Javadoc of {@link JobListener} promises a service: calls come from the node's actor
 * threads, one at a time, rounds in order; a call that throws is ignored and the job (and its
 * handle's result) goes on.
 */
class JobListenerTest {
  @TempDir Path dir;

  @Test
  void callsComeOneAtATimeOnActorThreadsAndAThrowingCallDoesNotStopTheJob() throws Exception {
    JobSpec spec = TestJobs.faultJob("listened", 300);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    Set<String> threads = ConcurrentHashMap.newKeySet();
    List<Long> rounds = new ArrayList<>(); // only touched by the (sequential) calls
    try (SingleNode anvil = SingleNode.start(dir, NodeSettings.builder().slots(1).httpOff())) {
      JobHandle job =
          anvil
              .node()
              .submit(
                  "listened",
                  spec,
                  1,
                  new JobListener() {
                    @Override
                    public void onProgress(
                        long round, long total, double loss, double samplesPerSecond) {
                      if (inside.incrementAndGet() > 1) {
                        overlaps.incrementAndGet();
                      }
                      threads.add(Thread.currentThread().getName());
                      rounds.add(round);
                      inside.decrementAndGet();
                      throw new IllegalStateException("a listener's bug");
                    }
                  });
      TrainingResult result = job.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
      assertEquals(300, result.rounds());
      assertEquals(0, overlaps.get());
      assertFalse(threads.isEmpty());
      threads.forEach(t -> assertTrue(t.startsWith("anvil-pekko.actor.default-dispatcher-"), t));
      assertTrue(rounds.size() > 1, rounds::toString);
      for (int i = 1; i < rounds.size(); i++) {
        assertTrue(rounds.get(i) > rounds.get(i - 1), rounds::toString);
      }
    }
  }
}
