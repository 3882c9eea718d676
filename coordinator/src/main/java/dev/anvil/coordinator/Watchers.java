package dev.anvil.coordinator;

import dev.anvil.coordinator.JobProtocol.JobUpdate;
import dev.anvil.coordinator.JobProtocol.Rejected;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Who hears about a job: its submitter and everyone who watched, paused, resumed or cancelled it.
 * Kept across the coordinator's incarnations in one JVM (a resume hands them on).
 */
final class Watchers {
  private final Set<ActorRef<JobUpdate>> all = new HashSet<>();

  /** Adds {@code w}; whether it was not a watcher yet. */
  boolean add(ActorRef<JobUpdate> w) {
    return all.add(w);
  }

  /** Tells every watcher. */
  void tell(JobUpdate update) {
    for (ActorRef<JobUpdate> w : all) {
      w.tell(update);
    }
  }

  /** Tells {@code w} alone that its request was refused, and forgets it. */
  void refuse(ActorRef<JobUpdate> w, String jobId, String reason) {
    all.remove(w);
    w.tell(new Rejected(jobId, reason));
  }

  /** Tells every watcher that the request was refused, and forgets them all. */
  void refuseAll(String jobId, String reason) {
    tell(new Rejected(jobId, reason));
    all.clear();
  }
}
