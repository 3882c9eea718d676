package dev.anvil.runtime.http;

/** What a resource answers: a status and a body the API sends as JSON. */
record Answer(int status, Object body) {
  /** 200 with {@code body}. */
  static Answer ok(Object body) {
    return new Answer(200, body);
  }
}
