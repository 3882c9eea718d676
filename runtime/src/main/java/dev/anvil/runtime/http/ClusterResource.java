package dev.anvil.runtime.http;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * /api/cluster: the members this node sees (address, incarnation, status, roles, reachable), each
 * with the running jobs it coordinates and its workers in each. The jobs come from one journal
 * query; their placements from their coordinators, asked together.
 */
final class ClusterResource {
  private final ActorSystem<?> system;
  private final JobRecords records;

  ClusterResource(ActorSystem<?> system, JobRecords records) {
    this.system = system;
    this.records = records;
  }

  /** GET /api/cluster. */
  Answer get() throws SQLException {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    List<Map<String, Object>> members = new ArrayList<>();
    for (Member m : StreamSupport.stream(state.getMembers().spliterator(), false).toList()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("address", m.address().hostPort());
      e.put("uid", m.uniqueAddress().longUid());
      e.put("status", m.status().toString());
      e.put("roles", new TreeSet<>(m.getRoles()));
      e.put("reachable", !state.getUnreachable().contains(m));
      members.add(e);
    }
    Placements.annotate(
        members,
        Placements.ask(
            system,
            records.overview().stream()
                .filter(s -> Placements.running(s.state()))
                .map(JobRecords.Status::jobId)
                .toList()));
    return Answer.ok(Map.of("self", cluster.selfMember().address().hostPort(), "members", members));
  }
}
