package dev.anvil.runtime.http;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * {@code anvil.http}: where a node's HTTP API listens and who may change things through it.
 * Bound to a non-loopback address, a bearer token is required (the node refuses to start
 * without one); mutating requests must carry it wherever the API is bound, once one is set.
 */
public record HttpSettings(boolean enabled, String host, int port, String token,
    int maxBodyBytes) {

  public static HttpSettings from(Config config) {
    Config c = config.getConfig("anvil.http");
    boolean enabled = c.getBoolean("enabled");
    String host = c.getString("host");
    int port = c.getInt("port");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("anvil.http.port = " + port
          + ": must be a port from 0 (any free one) to 65535");
    }
    String token = c.getString("token");
    if (token.isEmpty()) {
      String fromEnv = System.getenv("ANVIL_HTTP_TOKEN");
      token = fromEnv == null ? "" : fromEnv.trim();
    }
    int maxBody = c.getInt("max-body-bytes");
    if (maxBody < 1024) {
      throw new IllegalArgumentException("anvil.http.max-body-bytes = " + maxBody
          + ": must be at least 1024");
    }
    HttpSettings s = new HttpSettings(enabled, host, port, token, maxBody);
    if (enabled && !s.loopback() && token.isEmpty()) {
      throw new IllegalArgumentException("anvil.http.host = " + host + " is not a loopback"
          + " address: the HTTP API needs a bearer token there (anvil.http.token or"
          + " ANVIL_HTTP_TOKEN), or bind it to 127.0.0.1");
    }
    return s;
  }

  /** Whether the API listens on this machine only. */
  public boolean loopback() {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("anvil.http.host = " + host + ": unknown host", e);
    }
  }
}
