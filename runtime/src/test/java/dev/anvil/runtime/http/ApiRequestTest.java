package dev.anvil.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.anvil.core.spec.SpecRules;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Request parsing without a server: well-formed parts come back decoded; hostile ones (oversized,
 * bad ids, bad numbers, bad encoding, bad JSON) are refused with a status and a message that names
 * the part and what is allowed, and never quotes what was sent.
 */
class ApiRequestTest {
  /** What a hostile client sends, to be found in no error message. */
  static final String MARK = "<script>pwn";

  static HttpError refused(int status, String expected, Executable parse) {
    HttpError e = assertThrows(HttpError.class, parse);
    assertEquals(status, e.status(), e::getMessage);
    assertEquals(expected, e.getMessage());
    assertFalse(e.getMessage().contains("pwn"), e::getMessage);
    return e;
  }

  static InputStream bytes(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aJobPathGivesTheDecodedIdAndTheAction() {
    assertEquals(
        new ApiRequest.JobPath("job-1.a_b", null), ApiRequest.jobPath("/api/jobs/job%2D1.a_b"));
    assertEquals(new ApiRequest.JobPath("j", "pause"), ApiRequest.jobPath("/api/jobs/j/pause"));
    for (String other :
        List.of(
            "/api/jobs/",
            "/api/jobs/j/pause/now",
            "/api/jobs/j/PAUSE",
            "/etc/passwd",
            "/api/jobsx")) {
      assertNull(ApiRequest.jobPath(other), other);
    }
  }

  @Test
  void badJobIdsAreRefusedWithoutQuotingThem() {
    String rule =
        "job id: must be 1 to 100 letters, digits, '.', '_' or '-', starting with a"
            + " letter or digit";
    for (String raw :
        List.of(
            "..",
            "%2e%2e",
            "..%2F..%2Fetc%2Fpasswd",
            "-lead",
            "",
            "a".repeat(101),
            "a%20b",
            MARK,
            "%3Cscript%3Epwn",
            "a/pwn")) {
      refused(400, rule, () -> ApiRequest.jobId(raw));
    }
    assertEquals("a".repeat(100), ApiRequest.jobId("a".repeat(100)));
    refused(400, rule, () -> ApiRequest.jobPath("/api/jobs/%2e%2epwn/cancel"));
    refused(
        400,
        "job id: malformed URL encoding (a '%' must be followed by two hexadecimal" + " digits)",
        () -> ApiRequest.jobId("pwn%zz"));
  }

  @Test
  void theQueryIsDecodedAndUnknownParametersAreRefused() {
    assertEquals(Map.of(), ApiRequest.query(null));
    assertEquals(Map.of(), ApiRequest.query(""));
    assertEquals(
        Map.of("id", "j", "workers", "3", "reason", "a b&c"),
        ApiRequest.query("id=j&workers=3&reason=a+b%26c"));
    assertEquals(Map.of("id", "two", "reason", ""), ApiRequest.query("id=one&id=two&reason"));
    String unknown = "unknown parameter in the query; allowed: id, workers, reason";
    for (String raw : List.of("colour=red", "pwn", "id=j&pwn=1", "%3Cscript%3Epwn=1", "=x")) {
      refused(400, unknown, () -> ApiRequest.query(raw));
    }
    refused(
        400,
        "reason: malformed URL encoding (a '%' must be followed by two hexadecimal" + " digits)",
        () -> ApiRequest.query("reason=pwn%4"));
    refused(
        400,
        "a query parameter's name: malformed URL encoding (a '%' must be followed by"
            + " two hexadecimal digits)",
        () -> ApiRequest.query("pwn%g1=2"));
  }

  @Test
  void workersMustBeAWholeNumberFromOneTo10000() {
    assertEquals(1, ApiRequest.workers("1"));
    assertEquals(10_000, ApiRequest.workers("10000"));
    for (String bad : List.of("0", "-3", "10001", "2.5", "", " 2", "99999999999", "1e3", MARK)) {
      refused(
          400, "workers: must be a whole number from 1 to 10000", () -> ApiRequest.workers(bad));
    }
  }

  @Test
  void aBodyUpToTheLimitIsReadAsUtf8() throws Exception {
    assertEquals("{\"é\": 1}", ApiRequest.body(bytes("{\"é\": 1}"), "10", 10));
    assertEquals("", ApiRequest.body(bytes(""), null, 10));
  }

  @Test
  void aBodyOverTheLimitIsRefusedWhateverContentLengthSays() {
    String body = "x".repeat(11) + "pwn";
    for (String declared : new String[] {null, "3", String.valueOf(body.length())}) {
      refused(
          413,
          "the body is larger than anvil.http.max-body-bytes = 10",
          () -> ApiRequest.body(bytes(body), declared, 10));
    }
  }

  @Test
  void aContentLengthThatIsNoNumberIsRefused() {
    for (String declared : List.of("ten", "", "-", MARK, "1".repeat(30))) {
      refused(
          400,
          "Content-Length: must be a whole number of bytes",
          () -> ApiRequest.body(bytes("{}"), declared, 10));
    }
  }

  @Test
  void anOversizedBodyIsDrainedUpToItsLimitAndClosed() throws Exception {
    CountingStream in = new CountingStream(ApiRequest.DRAIN_LIMIT * 2);
    ApiRequest.discard(in);
    assertTrue(in.closed, "the body stream is closed");
    assertTrue(
        in.read > ApiRequest.DRAIN_LIMIT && in.read < ApiRequest.DRAIN_LIMIT + 65_536,
        "read " + in.read + " of " + in.size + " bytes");
  }

  @Test
  void aBodyThatIsNoJobSpecIsRefusedNamingWhatIsWrong() {
    SpecRules rules = SpecRules.defaults();
    refused(
        400,
        "the body must be a job spec (HOCON or JSON), e.g. {\"job\": {...}}",
        () -> ApiRequest.spec(" \n", rules));
    for (String bad : List.of("{\"job\": {\"name\": \"pwn", "{\"job\": [pwn}}", "pwn }{")) {
      HttpError e = assertThrows(HttpError.class, () -> ApiRequest.spec(bad, rules));
      assertEquals(400, e.status());
      assertTrue(e.getMessage().contains("not valid HOCON or JSON"), e::getMessage);
      assertFalse(e.getMessage().contains("pwn"), e::getMessage);
    }
    HttpError unknownKey =
        assertThrows(
            HttpError.class,
            () -> ApiRequest.spec("{\"job\": {\"name\": \"n\", \"colour\": \"pwn\"}}", rules));
    assertTrue(unknownKey.getMessage().contains("job.colour"), unknownKey::getMessage);
    assertFalse(unknownKey.getMessage().contains("pwn"), unknownKey::getMessage);
  }

  /** A body of {@code size} zero bytes that counts what is read and whether it was closed. */
  static final class CountingStream extends InputStream {
    final long size;
    long read;
    boolean closed;

    CountingStream(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      if (read >= size) {
        return -1;
      }
      read++;
      return 0;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      int n = (int) Math.min(len, size - read);
      read += Math.max(n, 0);
      return n <= 0 ? -1 : n;
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
