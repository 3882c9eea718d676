package dev.anvil.worker;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.core.train.PreparedJob;
import java.util.HashMap;
import java.util.Map;

/**
 * A node's prepared jobs (data loaded, model built), shared by the node's worker slots so the data
 * set is held once per node. Reference-counted by the slots that use each job.
 */
public final class PreparedJobs {
  private final Map<String, Entry> jobs = new HashMap<>();
  private final SpecRules rules;

  /** {@code rules}: what this node accepts in a job (its size limits, folders and classes). */
  public PreparedJobs(SpecRules rules) {
    this.rules = rules;
  }

  public SpecRules rules() {
    return rules;
  }

  private static final class Entry {
    final PreparedJob job;
    int users;

    Entry(PreparedJob job) {
      this.job = job;
    }
  }

  /** The prepared job for {@code spec} (loaded on first use); one more user. */
  public synchronized PreparedJob acquire(String jobId, JobSpec spec) {
    Entry e = jobs.get(jobId);
    if (e == null || !e.job.spec().equals(spec)) {
      e = new Entry(PreparedJob.prepare(spec, "job " + jobId, rules));
      jobs.put(jobId, e);
    }
    e.users++;
    return e.job;
  }

  /** One user fewer; the job is dropped when none is left. */
  public synchronized void release(String jobId) {
    Entry e = jobs.get(jobId);
    if (e != null && --e.users <= 0) {
      jobs.remove(jobId);
    }
  }
}
