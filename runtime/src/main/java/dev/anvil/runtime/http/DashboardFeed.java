package dev.anvil.runtime.http;

import dev.anvil.coordinator.JobProtocol;
import dev.anvil.core.train.Recovery;
import dev.anvil.runtime.node.WorkerListing;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * What the dashboard shows, as one snapshot: the cluster's nodes (up, unreachable, down) with their
 * workers, every job's state and recent rounds, and a timeline of membership changes (seen by this
 * node since it started) and the jobs' recoveries (from the journal).
 */
final class DashboardFeed {
  /** Rounds per job in a snapshot: about a second's worth of a fast job, for its loss curve. */
  private static final int CURVE_ROUNDS = 600;

  /** Jobs in a snapshot. */
  private static final int JOBS = 50;

  /** Membership changes kept for the timeline. */
  private static final int EVENTS = 200;

  private final ActorSystem<?> system;
  private final JobRecords records;
  private final Deque<Map<String, Object>> events = new ArrayDeque<>();

  /** Nodes removed from the cluster, by address, with when. */
  private final Map<String, Long> gone = new TreeMap<>();

  DashboardFeed(ActorSystem<?> system, JobRecords records) {
    this.system = system;
    this.records = records;
    var listener =
        system.systemActorOf(
            Behaviors.<ClusterEvent.ClusterDomainEvent>receive(
                (ctx, e) -> {
                  observe(e);
                  return Behaviors.same();
                }),
            "dashboard-membership-" + System.nanoTime(),
            Props.empty());
    Cluster.get(system)
        .subscriptions()
        .tell(Subscribe.create(listener, ClusterEvent.ClusterDomainEvent.class));
  }

  private synchronized void observe(ClusterEvent.ClusterDomainEvent e) {
    String kind;
    Member m;
    if (e instanceof ClusterEvent.MemberUp up) {
      kind = "up";
      m = up.member();
      gone.remove(m.address().hostPort());
    } else if (e instanceof ClusterEvent.UnreachableMember u) {
      kind = "unreachable";
      m = u.member();
    } else if (e instanceof ClusterEvent.ReachableMember r) {
      kind = "reachable";
      m = r.member();
    } else if (e instanceof ClusterEvent.MemberDowned d) {
      kind = "down";
      m = d.member();
    } else if (e instanceof ClusterEvent.MemberLeft l) {
      kind = "leaving";
      m = l.member();
    } else if (e instanceof ClusterEvent.MemberRemoved r) {
      kind = "removed";
      m = r.member();
      gone.put(m.address().hostPort(), System.currentTimeMillis());
    } else {
      return;
    }
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("time", System.currentTimeMillis());
    event.put("kind", kind);
    event.put(
        "detail",
        "node "
            + m.address().hostPort()
            + " (incarnation "
            + m.uniqueAddress().longUid()
            + ") "
            + kind);
    events.addFirst(event);
    while (events.size() > EVENTS) {
      events.removeLast();
    }
  }

  /** The newest snapshot and when it was taken (nanoTime), shared by every dashboard. */
  private Map<String, Object> cached;

  private long cachedAt;

  /** Not this object's monitor: membership events take that one, and must never wait long. */
  private final Object cacheLock = new Object();

  private static final long FRESH_NANOS = 900_000_000L;

  /**
   * What the dashboard shows now: one snapshot a second at most, however many dashboards and
   * requests ask for it (each costs the journal a query).
   */
  Map<String, Object> snapshot() throws SQLException {
    synchronized (cacheLock) {
      long now = System.nanoTime();
      if (cached == null || now - cachedAt > FRESH_NANOS) {
        cached = java.util.Collections.unmodifiableMap(take());
        cachedAt = System.nanoTime();
      }
      return cached;
    }
  }

  private Map<String, Object> take() throws SQLException {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("time", System.currentTimeMillis());
    out.put("self", Cluster.get(system).selfMember().address().hostPort());
    List<Map<String, Object>> nodes = members();
    List<Map<String, Object>> timeline = new ArrayList<>();
    synchronized (this) {
      gone.forEach(
          (address, since) ->
              nodes.add(
                  Map.of(
                      "address", address, "status", "down", "roles", List.of(), "workers", 0,
                      "since", since)));
      timeline.addAll(events);
    }
    out.put("nodes", nodes);
    List<JobRecords.Status> statuses = records.statuses(JOBS, CURVE_ROUNDS);
    Map<String, JobProtocol.Placement> placements =
        Placements.ask(
            system,
            statuses.stream()
                .filter(s -> Placements.running(s.state()))
                .map(JobRecords.Status::jobId)
                .toList());
    Placements.annotate(nodes.stream().filter(n -> n.containsKey("uid")).toList(), placements);
    List<Map<String, Object>> jobs = new ArrayList<>();
    for (JobRecords.Status s : statuses) {
      jobs.add(job(s, placements.get(s.jobId())));
      for (Recovery r : s.recoveries()) {
        timeline.add(recovery(s.jobId(), r));
      }
    }
    timeline.sort((a, b) -> Long.compare((Long) b.get("time"), (Long) a.get("time")));
    out.put("jobs", jobs);
    out.put("timeline", timeline.size() > EVENTS ? timeline.subList(0, EVENTS) : timeline);
    return out;
  }

  /** The cluster's members as this node sees them, with their workers. */
  private List<Map<String, Object>> members() {
    Map<String, Integer> workers = workersByNode();
    List<Map<String, Object>> nodes = new ArrayList<>();
    var state = Cluster.get(system).state();
    for (Member m : StreamSupport.stream(state.getMembers().spliterator(), false).toList()) {
      String address = m.address().hostPort();
      boolean reachable = !state.getUnreachable().contains(m);
      String status = m.status().toString().toLowerCase();
      Map<String, Object> n = new LinkedHashMap<>();
      n.put("address", address);
      n.put("uid", m.uniqueAddress().longUid());
      n.put("status", !reachable && status.equals("up") ? "unreachable" : status);
      n.put("roles", new java.util.TreeSet<>(m.getRoles()));
      n.put("workers", workers.getOrDefault(address, 0));
      nodes.add(n);
    }
    return nodes;
  }

  /** A job as the dashboard shows it; {@code placement} is null when its coordinator is mute. */
  private static Map<String, Object> job(JobRecords.Status s, JobProtocol.Placement placement) {
    Map<String, Object> job = JobRecords.describe(s);
    if (Placements.running(s.state())) {
      job.put(
          "placement", placement == null ? Placements.unknown() : Placements.describe(placement));
    }
    job.remove("recentRounds");
    job.put("rounds", s.recent());
    return job;
  }

  /** A recovery of job {@code jobId} as a timeline event. */
  private static Map<String, Object> recovery(String jobId, Recovery r) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("time", r.faultSeenMillis());
    e.put("kind", "recovery");
    e.put("detail", "job " + jobId + ": " + r.kind() + " (" + r.detail() + "), " + r.costs());
    return e;
  }

  /** Worker slots registered with the receptionist, by node address (host:port). */
  private Map<String, Integer> workersByNode() {
    try {
      return WorkerListing.byNode(system, Duration.ofSeconds(2));
    } catch (IllegalStateException e) {
      return Map.of(); // the counts are left out of this snapshot; the next one tries again
    }
  }
}
