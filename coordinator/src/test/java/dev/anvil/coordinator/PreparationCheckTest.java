package dev.anvil.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PreparationCheckTest {
  private static Prepared worker(String fingerprint, String canary, String kernel) {
    return new Prepared("job", 1, "n2/worker-0", fingerprint, canary, kernel, null, 0, null);
  }

  @Test
  void agreeingWorkerIsAccepted() {
    assertEquals(
        Optional.empty(),
        PreparationCheck.problem(worker("f", "c", "java"), "n2", "f", "c", "java", "n1"));
  }

  @Test
  void otherDataIsRefusedNamingBothFingerprints() {
    String p =
        PreparationCheck.problem(
                worker("f2", "c", "java"),
                "pekko://anvil@h2:2",
                "f1",
                "c",
                "java",
                "pekko://anvil@h1:1")
            .orElseThrow();
    assertTrue(
        p.contains(
            "at pekko://anvil@h2:2 loads data with fingerprint f2 but the"
                + " coordinator at pekko://anvil@h1:1 loads f1"),
        p);
  }

  @Test
  void otherBitsAreRefusedNamingBothCanariesAndKernels() {
    String p =
        PreparationCheck.problem(worker("f", "c2", "java"), "h2", "f", "c1", "native", "h1")
            .orElseThrow();
    assertTrue(
        p.contains(
            "computes canary gradient c2 (kernel java) but the coordinator at h1"
                + " computes c1 (kernel native)"),
        p);
  }
}
