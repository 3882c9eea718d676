package dev.anvil.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.kernel.Kernels;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.runtime.client.JobClient;
import dev.anvil.runtime.launcher.LocalCluster;
import dev.anvil.runtime.launcher.LocalClusterSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node JVMs that compute different bits: node 2 cannot load native BLAS, so with {@code kernel
 * = auto} it computes with the java kernel while node 1 uses OpenBLAS. The job is refused with a
 * message naming both canaries. Needs native BLAS (full profile).
 */
@Tag("native")
class CanaryMismatchTest {
  @TempDir Path dir;

  @Test
  void nodesThatComputeOtherBitsAreRefused() throws Exception {
    assertTrue(Kernels.probeNative().available(), Kernels.probeNative()::problem);
    JobSpec spec =
        JobSpecParser.parse(
            """
        job {
          name = "mixed", seed = 1
          model { type = softmax }
          data { type = synthetic, samples = 400, features = 6, classes = 3, seed = 2 }
          optimizer { type = sgd, learning-rate = 0.1 }
          batch-size = 16, logical-shards = 2, rounds = 5, kernel = auto
        }
        """,
            "mixed",
            null);
    LocalClusterSettings settings =
        LocalClusterSettings.of(2, 1, dir)
            .withNodeJvmOptions(
                List.of(
                    List.of(), List.of("-Ddev.ludovic.netlib.blas.nativeLib=libnot-a-blas.so")));
    try (LocalCluster cluster = LocalCluster.start(settings)) {
      JobClient.Outcome outcome =
          JobClient.submit(cluster.client(), "mixed", spec, 2, u -> {})
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertFalse(outcome.succeeded());
      assertTrue(outcome.failure().contains("computes canary gradient"), outcome.failure());
      assertTrue(
          outcome.failure().contains("(kernel java)")
              && outcome.failure().contains("(kernel native)"),
          outcome.failure());
    }
  }
}
