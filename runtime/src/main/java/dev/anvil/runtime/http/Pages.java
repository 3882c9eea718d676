package dev.anvil.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the HTTP API serves besides JSON: text, probes, the dashboard page and its events. */
final class Pages {
  private static final Logger log = LoggerFactory.getLogger(Pages.class);

  private Pages() {}

  /** 200 with {@code body}. */
  static void send(HttpExchange exchange, String contentType, String body) {
    try (exchange) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", contentType);
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException e) {
      log.debug("response not sent: {}", e.toString());
    }
  }

  /** A probe's answer: 200 "ok", or 503 with why not. */
  static void health(HttpExchange exchange, boolean ok, String why) {
    try (exchange) {
      byte[] bytes = (ok ? "ok" : why).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(ok ? 200 : 503, bytes.length);
      exchange.getResponseBody().write(bytes);
    } catch (IOException e) {
      log.debug("probe answer not sent: {}", e.toString());
    }
  }

  /** The dashboard page (a classpath resource). */
  static String dashboard() {
    try (InputStream in = Pages.class.getResourceAsStream("dashboard.html")) {
      if (in == null) {
        return "dashboard.html is missing from the build";
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "dashboard.html could not be read: " + e.getMessage();
    }
  }

  /**
   * Server-sent events for the dashboard: a snapshot every second until the client goes away or the
   * API closes; at most {@link #MAX} at once (more get 503).
   */
  static final class EventStream {
    static final int MAX = 8;

    private final DashboardFeed feed;
    private final ObjectMapper json;
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closed;

    EventStream(DashboardFeed feed, ObjectMapper json) {
      this.feed = feed;
      this.json = json;
    }

    void serve(HttpExchange exchange) {
      try (exchange) {
        if (open.incrementAndGet() > MAX) {
          byte[] busy =
              "{\"error\": \"too many dashboards open on this node\"}"
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(503, busy.length);
          exchange.getResponseBody().write(busy);
          return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        while (!closed) {
          String data;
          try {
            data = json.writeValueAsString(feed.snapshot());
          } catch (SQLException e) {
            data =
                json.writeValueAsString(
                    Map.of("error", "the journal does not answer: " + e.getMessage()));
          }
          out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          Thread.sleep(1000); // the feed's period; the client renders each snapshot
        }
      } catch (IOException e) {
        log.debug("dashboard stream closed: {}", e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        open.decrementAndGet();
      }
    }

    void close() {
      closed = true;
    }
  }
}
