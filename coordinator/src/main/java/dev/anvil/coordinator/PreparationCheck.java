package dev.anvil.coordinator;

import dev.anvil.core.protocol.TrainingProtocol.Prepared;
import java.util.Optional;

/**
 * Whether a worker computes the same bits as the coordinator: same data (fingerprint) and the same
 * canary gradient (same kernel, BLAS library and hardware). A mismatch names both values and both
 * places.
 */
public final class PreparationCheck {
  private PreparationCheck() {}

  /** Empty when the worker agrees with the coordinator, else why it is refused. */
  public static Optional<String> problem(
      Prepared worker,
      String workerAddress,
      String fingerprint,
      String canary,
      String kernel,
      String coordinatorAddress) {
    if (!worker.dataFingerprint().equals(fingerprint)) {
      return Optional.of(
          "worker "
              + worker.worker()
              + " at "
              + workerAddress
              + " loads data with fingerprint "
              + worker.dataFingerprint()
              + " but the coordinator"
              + " at "
              + coordinatorAddress
              + " loads "
              + fingerprint
              + ": every node must see the same data");
    }
    if (!worker.canarySha256().equals(canary)) {
      return Optional.of(
          "worker "
              + worker.worker()
              + " at "
              + workerAddress
              + " computes canary gradient "
              + worker.canarySha256()
              + " (kernel "
              + worker.kernel()
              + ") but the coordinator at "
              + coordinatorAddress
              + " computes "
              + canary
              + " (kernel "
              + kernel
              + "): nodes must compute the same bits (same kernel, BLAS"
              + " library and hardware)");
    }
    return Optional.empty();
  }
}
