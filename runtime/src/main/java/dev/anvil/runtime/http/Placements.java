package dev.anvil.runtime.http;

import dev.anvil.coordinator.JobCoordinator;
import dev.anvil.coordinator.JobProtocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Where running jobs are: asked of their coordinators (the journal does not know), each ask bounded
 * by a deadline. Only jobs the journal shows running or starting are asked, so that a finished
 * job's coordinator is not started again to answer.
 */
final class Placements {
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  private Placements() {}

  /** Whether a job in journal state {@code state} has a coordinator worth asking. */
  static boolean running(String state) {
    return state.equals("running") || state.equals("starting");
  }

  /**
   * The placements of {@code jobIds}, asked together; a coordinator that does not answer within
   * {@link #TIMEOUT} is missing from the map.
   */
  static Map<String, JobProtocol.Placement> ask(ActorSystem<?> system, List<String> jobIds) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Map<String, CompletableFuture<JobProtocol.Placement>> asks = new LinkedHashMap<>();
    for (String id : jobIds) {
      asks.put(
          id,
          sharding
              .entityRefFor(JobCoordinator.TYPE_KEY, id)
              .<JobProtocol.Placement>ask(JobProtocol.GetPlacement::new, TIMEOUT)
              .toCompletableFuture());
    }
    long deadline = System.nanoTime() + TIMEOUT.toNanos() + 500_000_000L;
    Map<String, JobProtocol.Placement> out = new LinkedHashMap<>();
    for (Map.Entry<String, CompletableFuture<JobProtocol.Placement>> e : asks.entrySet()) {
      try {
        out.put(
            e.getKey(),
            e.getValue().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        break;
      } catch (ExecutionException | TimeoutException ex) {
        // not answered in time: left out, and said so by the caller
      }
    }
    return out;
  }

  /** A placement as JSON: the coordinator's node and the workers per node. */
  static Map<String, Object> describe(JobProtocol.Placement p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("phase", p.phase());
    m.put("coordinator", Map.of("node", p.coordinator(), "uid", p.coordinatorUid()));
    List<Map<String, Object>> nodes = new ArrayList<>();
    for (int i = 0; i < p.nodes().length; i++) {
      nodes.add(Map.of("node", p.nodes()[i], "uid", p.nodeUids()[i], "workers", p.workers()[i]));
    }
    m.put("workers", nodes);
    return m;
  }

  /**
   * Adds to each member of {@code members} (maps with "address" and "uid") the jobs it coordinates
   * ("coordinates") and its workers in each job ("jobWorkers": job id to count).
   */
  static void annotate(
      List<Map<String, Object>> members, Map<String, JobProtocol.Placement> placements) {
    for (Map<String, Object> member : members) {
      Object address = member.get("address");
      Object uid = member.get("uid");
      List<String> coordinates = new ArrayList<>();
      Map<String, Integer> jobWorkers = new java.util.TreeMap<>();
      placements.forEach(
          (job, p) -> {
            if (p.coordinator().equals(address) && Long.valueOf(p.coordinatorUid()).equals(uid)) {
              coordinates.add(job);
            }
            for (int i = 0; i < p.nodes().length; i++) {
              if (p.nodes()[i].equals(address) && Long.valueOf(p.nodeUids()[i]).equals(uid)) {
                jobWorkers.put(job, p.workers()[i]);
              }
            }
          });
      member.put("coordinates", coordinates);
      member.put("jobWorkers", jobWorkers);
    }
  }

  /** The placement of a job whose coordinator did not answer. */
  static Map<String, Object> unknown() {
    return Map.of(
        "error",
        "the job's coordinator did not answer within "
            + TIMEOUT.toSeconds()
            + " s (it may be moving to another node)");
  }
}
