package dev.anvil.runtime.http;

import dev.anvil.coordinator.JobJournal;
import dev.anvil.persistence.DatabaseSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Jobs as the journal records them, for the HTTP API: which exist, and a job's state and recent
 * rounds from its newest events. Reading the journal (not asking a coordinator) means an unknown
 * job id never starts an entity, and a status needs no live coordinator.
 */
final class JobRecords {
  /** Newest events read for a status. */
  private static final int RECENT_EVENTS = 400;
  /** Rounds reported in a status. */
  private static final int RECENT_ROUNDS = 50;

  private final Serialization serialization;
  private final DatabaseSettings db;
  private final String prefix;

  JobRecords(ActorSystem<?> system, DatabaseSettings db) {
    this.serialization = SerializationExtension.get(Adapter.toClassic(system));
    this.db = db;
    this.prefix = JobJournal.persistenceId("").id();
  }

  /** One committed round. */
  record Round(long round, double loss, long timeMillis) {}

  /** A job's state: running, paused, finished, failed or cancelled. */
  record Status(String jobId, String state, long lastRound, List<Round> recent,
      String resultJson, String failure) {}

  /** Ids of the jobs the journal holds, sorted, at most {@code limit}. */
  List<String> ids(int limit) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement q = c.prepareStatement("SELECT DISTINCT persistence_id FROM"
            + " event_journal WHERE persistence_id LIKE ? ORDER BY persistence_id LIMIT ?")) {
      q.setString(1, prefix.replace("%", "\\%").replace("_", "\\_") + "%");
      q.setInt(2, limit);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1).substring(prefix.length()));
        }
      }
    }
    return ids;
  }

  /** The job's status, or null when the journal has no such job. */
  Status status(String jobId) throws SQLException {
    List<JobJournal.Event> newestFirst = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement q = c.prepareStatement("SELECT event_ser_id, event_ser_manifest,"
            + " event_payload FROM event_journal WHERE persistence_id = ? AND NOT deleted"
            + " ORDER BY sequence_number DESC LIMIT ?")) {
      q.setString(1, JobJournal.persistenceId(jobId).id());
      q.setInt(2, RECENT_EVENTS);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          newestFirst.add((JobJournal.Event) serialization.deserialize(rs.getBytes(3),
              rs.getInt(1), rs.getString(2)).get());
        }
      }
    }
    if (newestFirst.isEmpty()) {
      return null;
    }
    String state = null;
    String result = null;
    String failure = null;
    TreeMap<Long, Round> rounds = new TreeMap<>();
    for (JobJournal.Event e : newestFirst) {
      if (e instanceof JobJournal.RoundCommitted r) {
        rounds.putIfAbsent(r.round(), new Round(r.round(), r.loss(), r.epochMillis()));
        if (state == null) {
          state = "running";
        }
      } else if (state == null && e instanceof JobJournal.JobCompleted done) {
        state = "finished";
        result = done.resultJson();
      } else if (state == null && e instanceof JobJournal.JobCancelled cancelled) {
        state = "cancelled";
        failure = cancelled.reason();
      } else if (state == null && e instanceof JobJournal.JobFailed failed) {
        state = "failed";
        failure = failed.reason();
      } else if (state == null && e instanceof JobJournal.JobPaused) {
        state = "paused";
      } else if (state == null && e instanceof JobJournal.JobResumed) {
        state = "running";
      }
    }
    List<Round> recent = new ArrayList<>(rounds.descendingMap().values().stream()
        .limit(RECENT_ROUNDS).toList());
    java.util.Collections.reverse(recent);
    long last = rounds.isEmpty() ? 0 : rounds.lastKey();
    return new Status(jobId, state == null ? "starting" : state, last, recent, result,
        failure);
  }

  static Map<String, Object> describe(Status s) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("jobId", s.jobId());
    m.put("state", s.state());
    m.put("lastRound", s.lastRound());
    m.put("recentRounds", s.recent());
    if (s.failure() != null) {
      m.put("reason", s.failure());
    }
    return m;
  }
}
