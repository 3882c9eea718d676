package dev.anvil.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * What an operator watches: /metrics (Prometheus text), the dashboard page (/ and /dashboard), its
 * stream of snapshots (/api/events) and one snapshot (/api/dashboard). Every dashboard shares one
 * snapshot a second.
 */
final class MonitoringResource implements AutoCloseable {
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  private final Supplier<String> metrics;
  private final DashboardFeed feed;
  private final Pages.EventStream stream;

  /** {@code metrics} renders /metrics. */
  MonitoringResource(
      ActorSystem<?> system, JobRecords records, Supplier<String> metrics, ObjectMapper json) {
    this.metrics = metrics;
    this.feed = new DashboardFeed(system, records);
    this.stream = new Pages.EventStream(feed, json);
  }

  /**
   * Serves {@code exchange} when it is a GET of a page this resource answers itself (not JSON);
   * returns whether it did.
   */
  boolean servePage(HttpExchange exchange, String path) {
    switch (path) {
      case "/metrics" -> Pages.send(exchange, PROMETHEUS, metrics.get());
      case "/", "/dashboard" -> Pages.send(exchange, "text/html; charset=utf-8", Pages.dashboard());
      case "/api/events" -> stream.serve(exchange);
      default -> {
        return false;
      }
    }
    return true;
  }

  /** GET /api/dashboard: the dashboard's current snapshot. */
  Answer snapshot() throws SQLException {
    return Answer.ok(feed.snapshot());
  }

  /** Ends the open event streams. */
  @Override
  public void close() {
    stream.close();
  }
}
