package dev.anvil.runtime.node;

import dev.anvil.coordinator.JobProtocol;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a job's updates into calls of its {@link JobListener}. Called by the job's follower actor
 * only, one update at a time, so its fields need no lock.
 */
final class ListenerCalls implements Consumer<JobProtocol.JobUpdate> {
  private static final Logger LOG = LoggerFactory.getLogger(ListenerCalls.class);
  private final String jobId;
  private final JobListener listener;
  private boolean started;
  private boolean warned;

  ListenerCalls(String jobId, JobListener listener) {
    this.jobId = jobId;
    this.listener = listener;
  }

  @Override
  public void accept(JobProtocol.JobUpdate u) {
    try {
      call(u);
    } catch (RuntimeException e) {
      // A listener's bug must not stop the job's follower: the result would never come.
      if (!warned) {
        warned = true;
        LOG.warn(
            "job {}: its JobListener threw on {}; ignored (this and later throws)",
            jobId,
            u.getClass().getSimpleName(),
            e);
      } else {
        LOG.debug(
            "job {}: its JobListener threw on {}; ignored", jobId, u.getClass().getSimpleName(), e);
      }
    }
  }

  private void call(JobProtocol.JobUpdate u) {
    if (u instanceof JobProtocol.Progress p) {
      listener.onProgress(p.round(), p.totalRounds(), p.loss(), p.samplesPerSecond());
    } else if (u instanceof JobProtocol.Accepted a) {
      boolean recovery = started;
      started = true;
      listener.onCoordinator(a.coordinator(), recovery);
    } else if (u instanceof JobProtocol.Degraded d) {
      listener.onDegraded(d.reason());
    } else if (u instanceof JobProtocol.Paused p) {
      listener.onPaused(p.round());
    } else if (u instanceof JobProtocol.Recovered r) {
      listener.onRecovery(r.recovery());
    }
  }
}
