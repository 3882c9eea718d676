package dev.anvil.runtime.http;

import dev.anvil.core.spec.JobSpec;
import dev.anvil.core.spec.JobSpecException;
import dev.anvil.core.spec.JobSpecParser;
import dev.anvil.core.spec.SpecRules;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parts of a request the API reads, parsed and checked without a server: a job's path, a job
 * id, the query, the worker count, the body and the job spec in it. A part that does not pass is an
 * {@link HttpError} (400; 413 for a body over the limit) that names the part and says what is
 * allowed. It never quotes what the client sent, which may be anything.
 */
final class ApiRequest {
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  private static final Pattern JOB_PATH = Pattern.compile("/api/jobs/([^/]+)(?:/([a-z]+))?");
  private static final String JOB_IDS =
      "must be 1 to 100 letters, digits, '.', '_' or '-'," + " starting with a letter or digit";

  /** The query parameters any request may carry. */
  static final List<String> PARAMETERS = List.of("id", "workers", "reason");

  static final int MAX_WORKERS = 10_000;

  /** Most bytes of an oversized body read (and dropped) before answering. */
  static final long DRAIN_LIMIT = 16L << 20;

  private ApiRequest() {}

  /** A path under /api/jobs/: a job, and the action asked of it (null: its status). */
  record JobPath(String jobId, String action) {}

  /**
   * The job and action of {@code rawPath} when it is /api/jobs/{id} or /api/jobs/{id}/{action},
   * else null; the id is decoded and checked ({@link #jobId}).
   */
  static JobPath jobPath(String rawPath) {
    Matcher m = JOB_PATH.matcher(rawPath);
    return m.matches() ? new JobPath(jobId(m.group(1)), m.group(2)) : null;
  }

  /** A job id from a URL (percent-encoded), decoded and checked. */
  static String jobId(String raw) {
    String id = decode(raw, "job id");
    if (!JOB_ID.matcher(id).matches()) {
      throw new HttpError(400, "job id: " + JOB_IDS);
    }
    return id;
  }

  /**
   * The query string's parameters, decoded, in order (a repeated one keeps its last value; one
   * without '=' is empty). Any other than {@link #PARAMETERS} is refused.
   */
  static Map<String, String> query(String rawQuery) {
    Map<String, String> out = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq), "a query parameter's name");
      if (!PARAMETERS.contains(key)) {
        throw new HttpError(
            400, "unknown parameter in the query; allowed: " + String.join(", ", PARAMETERS));
      }
      out.put(key, eq < 0 ? "" : decode(pair.substring(eq + 1), key));
    }
    return out;
  }

  /** The {@code workers} parameter: how many workers a job gets. */
  static int workers(String value) {
    try {
      int n = Integer.parseInt(value);
      if (n >= 1 && n <= MAX_WORKERS) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new HttpError(400, "workers: must be a whole number from 1 to " + MAX_WORKERS);
  }

  /**
   * The body as UTF-8, refused (413) past {@code maxBytes} whatever {@code declaredLength} (the
   * Content-Length header, or null) says. An oversized body is read and dropped up to {@link
   * #DRAIN_LIMIT} before the refusal, so that the client hears it instead of a reset connection.
   * Closes {@code in}.
   */
  static String body(InputStream in, String declaredLength, long maxBytes) throws IOException {
    if (declaredLength != null) {
      try {
        Long.parseLong(declaredLength.trim());
      } catch (NumberFormatException e) {
        throw new HttpError(400, "Content-Length: must be a whole number of bytes");
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (read(in, maxBytes, out) > maxBytes) {
      throw new HttpError(413, "the body is larger than anvil.http.max-body-bytes = " + maxBytes);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Reads and drops a body (up to {@link #DRAIN_LIMIT}), and closes {@code in}. */
  static void discard(InputStream in) throws IOException {
    read(in, 0, new ByteArrayOutputStream());
  }

  /**
   * The job spec (HOCON or JSON) in a body, parsed as untrusted under {@code rules}: its errors
   * name keys, never values.
   */
  static JobSpec spec(String body, SpecRules rules) {
    if (body.isBlank()) {
      throw new HttpError(
          400, "the body must be a job spec (HOCON or JSON), e.g." + " {\"job\": {...}}");
    }
    try {
      return JobSpecParser.parseUntrusted(body, "the request body", rules);
    } catch (JobSpecException e) {
      throw new HttpError(400, e.getMessage().strip());
    }
  }

  /**
   * Reads {@code in} up to {@link #DRAIN_LIMIT} bytes, keeping the first {@code keep} in {@code
   * out}; returns how many it read, and closes {@code in}.
   */
  private static long read(InputStream in, long keep, ByteArrayOutputStream out)
      throws IOException {
    byte[] buffer = new byte[8192];
    long seen = 0;
    try (in) {
      int n;
      while ((n = in.read(buffer)) > 0 && seen <= DRAIN_LIMIT) {
        seen += n;
        if (seen <= keep) {
          out.write(buffer, 0, n);
        }
      }
    }
    return seen;
  }

  /** A percent-encoded part of the URL, decoded; {@code what} names it in an error. */
  private static String decode(String raw, String what) {
    try {
      return URLDecoder.decode(raw, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new HttpError(
          400,
          what
              + ": malformed URL encoding (a '%' must be followed by"
              + " two hexadecimal digits)");
    }
  }
}
