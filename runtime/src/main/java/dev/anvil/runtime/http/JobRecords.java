package dev.anvil.runtime.http;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.anvil.coordinator.JobJournal;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.JournalRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Jobs as the journal records them, for the HTTP API: which exist, and a job's state and recent
 * rounds from its newest events. Reading the journal (not asking a coordinator) means an unknown
 * job id never starts an entity, and a status needs no live coordinator.
 */
final class JobRecords {
  /** Newest events read for a status: at least the rounds asked for, and what is around them. */
  private static final int EXTRA_EVENTS = 100;

  private final ActorSystem<?> system;
  /** A few connections shared by every request: a busy API never opens more than these. */
  private final HikariDataSource pool;
  private final String prefix;

  JobRecords(ActorSystem<?> system, DatabaseSettings db) {
    this.system = system;
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(db.url());
    c.setUsername(db.user());
    c.setPassword(db.password());
    c.setMaximumPoolSize(POOL_SIZE);
    c.setMinimumIdle(0);
    c.setConnectionTimeout(5_000);
    c.setInitializationFailTimeout(-1);  // the database may come later; requests then fail
    c.setPoolName("anvil-http");
    this.pool = new HikariDataSource(c);
    this.prefix = JobJournal.persistenceId("").id();
  }

  static final int POOL_SIZE = 3;

  void close() {
    pool.close();
  }

  /** One committed round. */
  record Round(long round, double loss, long timeMillis) {}

  /** A job's state: running, paused, finished, failed or cancelled. */
  record Status(String jobId, String state, long lastRound, List<Round> recent,
      String resultJson, String failure, List<dev.anvil.core.train.Recovery> recoveries) {}

  /** Ids of the jobs the journal holds, sorted, at most {@code limit}. */
  List<String> ids(int limit) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = pool.getConnection();
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

  /** Whether the journal holds any event of the job (one indexed row read, nothing decoded). */
  boolean exists(String jobId) throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement q = c.prepareStatement(
            "SELECT 1 FROM event_journal WHERE persistence_id = ? LIMIT 1")) {
      q.setString(1, JobJournal.persistenceId(jobId).id());
      try (ResultSet rs = q.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The job's status with up to {@code rounds} recent rounds, or null when there is no job. */
  Status status(String jobId, int rounds) throws SQLException {
    List<JobJournal.Event> newestFirst = JournalRows.newest(system, pool, jobId,
        rounds + EXTRA_EVENTS).stream().map(JournalRows.Row::event).toList();
    if (newestFirst.isEmpty()) {
      return null;
    }
    String state = null;
    String result = null;
    String failure = null;
    TreeMap<Long, Round> committed = new TreeMap<>();
    List<dev.anvil.core.train.Recovery> recoveries = new ArrayList<>();
    for (JobJournal.Event e : newestFirst) {
      // An end is final: rounds a coordinator recorded after it do not make the job run again.
      if (e instanceof JobJournal.JobCompleted done) {
        state = "finished";
        result = done.resultJson();
        break;
      } else if (e instanceof JobJournal.JobCancelled cancelled) {
        state = "cancelled";
        failure = cancelled.reason();
        break;
      } else if (e instanceof JobJournal.JobFailed failed) {
        state = "failed";
        failure = failed.reason();
        break;
      }
    }
    // Otherwise the newest round, pause or resume says whether it runs.
    for (JobJournal.Event e : newestFirst) {
      if (e instanceof JobJournal.RecoveryRecorded r) {
        recoveries.add(0, r.recovery());
      } else if (e instanceof JobJournal.RoundCommitted r) {
        committed.putIfAbsent(r.round(), new Round(r.round(), r.loss(), r.epochMillis()));
        if (state == null) {
          state = "running";
        }
      } else if (state == null && e instanceof JobJournal.JobPaused) {
        state = "paused";
      } else if (state == null && e instanceof JobJournal.JobResumed) {
        state = "running";
      }
    }
    List<Round> recent = new ArrayList<>(committed.descendingMap().values().stream()
        .limit(rounds).toList());
    java.util.Collections.reverse(recent);
    long last = committed.isEmpty() ? 0 : committed.lastKey();
    return new Status(jobId, state == null ? "starting" : state, last, recent, result,
        failure, recoveries);
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
