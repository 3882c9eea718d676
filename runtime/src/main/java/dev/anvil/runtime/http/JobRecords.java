package dev.anvil.runtime.http;

import com.zaxxer.hikari.HikariDataSource;
import dev.anvil.coordinator.JobJournal;
import dev.anvil.core.train.Recovery;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.journal.JournalRows;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
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

  /** Jobs in the overview of /api/jobs and /api/cluster. */
  private static final int LISTED = 200;

  static final int POOL_SIZE = 3;

  private final ActorSystem<?> system;

  /** A few connections shared by every request: a busy API never opens more than these. */
  private final HikariDataSource pool;

  JobRecords(ActorSystem<?> system, DatabaseSettings db) {
    this.system = system;
    this.pool = JournalRows.pool(db, "anvil-http", POOL_SIZE);
  }

  void close() {
    pool.close();
  }

  /** One committed round. */
  record Round(long round, double loss, long timeMillis) {}

  /** A job's state: running, paused, finished, failed or cancelled. */
  record Status(
      String jobId,
      String state,
      long lastRound,
      List<Round> recent,
      String resultJson,
      String failure,
      List<Recovery> recoveries) {}

  /** Whether the journal holds any event of the job (one indexed row read, nothing decoded). */
  boolean exists(String jobId) throws SQLException {
    return JournalRows.exists(system, pool, jobId);
  }

  /** The job's status with up to {@code rounds} recent rounds, or null when there is no job. */
  Status status(String jobId, int rounds) throws SQLException {
    List<JobJournal.Event> newestFirst =
        JournalRows.newest(system, pool, jobId, rounds + EXTRA_EVENTS).stream()
            .map(JournalRows.Row::event)
            .toList();
    return newestFirst.isEmpty() ? null : status(jobId, newestFirst, rounds);
  }

  /**
   * The status of each of the first {@code jobs} jobs the journal holds, by id, with up to {@code
   * rounds} recent rounds each: one query, whatever the number of jobs.
   */
  List<Status> statuses(int jobs, int rounds) throws SQLException {
    List<Status> out = new ArrayList<>();
    JournalRows.newestOfJobs(system, pool, jobs, rounds + EXTRA_EVENTS)
        .forEach(
            (id, rows) ->
                out.add(status(id, rows.stream().map(JournalRows.Row::event).toList(), rounds)));
    return out;
  }

  /** The state of each job the journal holds (at most 200), with only its newest round. */
  List<Status> overview() throws SQLException {
    return statuses(LISTED, 1);
  }

  /**
   * The status that a job's newest events ({@code newestFirst}, not empty) show, with up to {@code
   * rounds} recent rounds. An end (finished, cancelled, failed) is final; otherwise the newest
   * round, pause or resume says whether the job runs; with none of these it is starting.
   */
  static Status status(String jobId, List<JobJournal.Event> newestFirst, int rounds) {
    End end = end(newestFirst);
    String state = end == null ? null : end.state();
    TreeMap<Long, Round> committed = new TreeMap<>();
    List<Recovery> recoveries = new ArrayList<>();
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
    List<Round> recent =
        new ArrayList<>(committed.descendingMap().values().stream().limit(rounds).toList());
    Collections.reverse(recent);
    long last = committed.isEmpty() ? 0 : committed.lastKey();
    return new Status(
        jobId,
        state == null ? "starting" : state,
        last,
        recent,
        end == null ? null : end.resultJson(),
        end == null ? null : end.failure(),
        recoveries);
  }

  /** How a job ended: its state, and its result or why it did not finish. */
  private record End(String state, String resultJson, String failure) {}

  /**
   * The job's end, or null while it has none: rounds a coordinator recorded after an end do not
   * make the job run again.
   */
  private static End end(List<JobJournal.Event> newestFirst) {
    for (JobJournal.Event e : newestFirst) {
      if (e instanceof JobJournal.JobCompleted done) {
        return new End("finished", done.resultJson(), null);
      } else if (e instanceof JobJournal.JobCancelled cancelled) {
        return new End("cancelled", null, cancelled.reason());
      } else if (e instanceof JobJournal.JobFailed failed) {
        return new End("failed", null, failed.reason());
      }
    }
    return null;
  }

  static Map<String, Object> describe(Status s) {
    Map<String, Object> m = new LinkedHashMap<>();
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
