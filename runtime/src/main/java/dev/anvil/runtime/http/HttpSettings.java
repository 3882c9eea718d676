package dev.anvil.runtime.http;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code anvil.http}: where a node's HTTP API listens, its bearer token and the host names it
 * answers to. Mutating requests always need the token; bound to any other address than loopback,
 * every request but the health probes does. The token comes from {@code anvil.http.token}, {@code
 * ANVIL_HTTP_TOKEN} or the token file ({@link ApiToken}).
 *
 * @param allowedHosts names (besides the bound address and loopback's) that requests may give in
 *     {@code Host} and {@code Origin}; one starting with a dot allows a domain's hosts
 * @param probePort a port serving only the health probes, on threads of their own (-1: none)
 * @param httpsFolder the node's TLS folder when the API speaks HTTPS with its certificate, or null
 *     for plain HTTP
 */
public record HttpSettings(
    boolean enabled,
    String host,
    int port,
    String token,
    Path tokenFile,
    int maxBodyBytes,
    List<String> allowedHosts,
    int probePort,
    Path httpsFolder) {

  public HttpSettings {
    allowedHosts = List.copyOf(allowedHosts);
  }

  public static HttpSettings from(Config config) {
    Config c = config.getConfig("anvil.http");
    boolean enabled = c.getBoolean("enabled");
    String host = c.getString("host");
    int port = c.getInt("port");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          "anvil.http.port = " + port + ": must be a port from 0 (any free one) to 65535");
    }
    int maxBody = c.getInt("max-body-bytes");
    if (maxBody < 1024) {
      throw new IllegalArgumentException(
          "anvil.http.max-body-bytes = " + maxBody + ": must be at least 1024");
    }
    String file = c.getString("token-file");
    Path tokenFile = file.isEmpty() ? ApiToken.defaultFile() : Path.of(file);
    String token = "";
    if (enabled) {
      token = c.getString("token").trim();
      String key = "anvil.http.token";
      if (token.isEmpty()) {
        String fromEnv = System.getenv("ANVIL_HTTP_TOKEN");
        token = fromEnv == null ? "" : fromEnv.trim();
        key = "ANVIL_HTTP_TOKEN";
      }
      if (token.isEmpty()) {
        token = ApiToken.fromFile(tokenFile);
      } else {
        String problem = ApiToken.problem(key, token);
        if (problem != null) {
          throw new IllegalArgumentException(problem);
        }
      }
    }
    int probePort = c.getInt("probe-port");
    if (probePort < -1 || probePort > 65535) {
      throw new IllegalArgumentException(
          "anvil.http.probe-port = "
              + probePort
              + ": must be -1 (none), 0 (any free port) or a port up to 65535");
    }
    Path https = null;
    if (c.getBoolean("https")) {
      String folder = config.getString("anvil.tls.directory");
      if (folder.isEmpty()) {
        throw new IllegalArgumentException(
            "anvil.http.https = on serves the API with the"
                + " node's certificate: it needs anvil.tls.directory (anvil node --tls DIR)");
      }
      https = Path.of(folder);
    }
    return new HttpSettings(
        enabled,
        host,
        port,
        token,
        tokenFile,
        maxBody,
        c.getStringList("allowed-hosts"),
        probePort,
        https);
  }

  /** Whether the API listens on this machine only. */
  public boolean loopback() {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("anvil.http.host = " + host + ": unknown host", e);
    }
  }

  @Override
  public String toString() {
    return "HttpSettings[host=" + host + ", port=" + port + ", token file=" + tokenFile + "]";
  }
}
