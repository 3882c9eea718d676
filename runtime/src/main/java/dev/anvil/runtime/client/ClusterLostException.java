package dev.anvil.runtime.client;

/**
 * The member following a job lost the cluster (see {@link ClusterLoss}): the job's fate is not
 * known here. The message says what was lost and, for a local cluster, where the node logs are.
 */
public final class ClusterLostException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public ClusterLostException(String reason) {
    super("lost the cluster: " + reason);
  }
}
