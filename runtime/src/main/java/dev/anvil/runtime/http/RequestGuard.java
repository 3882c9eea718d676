package dev.anvil.runtime.http;

import com.sun.net.httpserver.HttpExchange;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What every request to the HTTP API must pass before it is routed: a {@code Host} that names this
 * API (a web page that rebinds its own DNS name to 127.0.0.1 sends its own name), no {@code Origin}
 * of another site, a POST body typed as JSON or HOCON (a web page can send text/plain, form and
 * multipart bodies without asking first), and off loopback the bearer token on everything but the
 * health probes. Refusals never quote the request.
 */
final class RequestGuard {
  static final String NEEDS_TOKEN =
      "this request needs the header Authorization: Bearer TOKEN"
          + " (anvil.http.token or ANVIL_HTTP_TOKEN of the node, else the file ~/.anvil/http-token"
          + " of the user running it; the anvil CLI reads that file)";

  /** Why a request is refused, and its status. */
  record Refusal(int status, String message) {}

  private final byte[] expected;
  private final boolean loopback;
  private final Set<String> names = new HashSet<>();
  private final List<String> domains;

  RequestGuard(HttpSettings settings) {
    this.expected = ("Bearer " + settings.token()).getBytes(StandardCharsets.UTF_8);
    this.loopback = settings.loopback();
    names.addAll(List.of("localhost", "127.0.0.1", "::1"));
    names.add(bare(settings.host()));
    for (String h : settings.allowedHosts()) {
      if (!h.startsWith(".")) {
        names.add(bare(h));
      }
    }
    this.domains =
        settings.allowedHosts().stream()
            .filter(h -> h.startsWith("."))
            .map(h -> h.toLowerCase(Locale.ROOT))
            .toList();
    try {
      InetAddress bound = InetAddress.getByName(settings.host());
      if (bound.isAnyLocalAddress()) {
        addOwnAddresses();
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "anvil.http.host = " + settings.host() + ": unknown host", e);
    }
  }

  /** Bound to every address: this machine's addresses and names are the API's too. */
  private void addOwnAddresses() {
    try {
      for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : Collections.list(n.getInetAddresses())) {
          names.add(
              bare(
                  a instanceof Inet6Address
                      ? a.getHostAddress().replaceAll("%.*", "")
                      : a.getHostAddress()));
        }
      }
      InetAddress local = InetAddress.getLocalHost();
      names.add(bare(local.getHostName()));
      names.add(bare(local.getCanonicalHostName()));
    } catch (SocketException | UnknownHostException e) {
      // Loopback's names and the configured ones remain.
    }
  }

  /** A host name or address in lower case, without IPv6 brackets. */
  private static String bare(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  /** The host of a Host header ({@code name}, {@code name:port}, {@code [v6]:port}), or null. */
  static String hostOf(String header) {
    String h = header.trim();
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? null : h.substring(1, end).toLowerCase(Locale.ROOT);
    }
    int colon = h.indexOf(':');
    if (colon >= 0 && h.indexOf(':', colon + 1) >= 0) {
      return null; // an IPv6 address must be bracketed
    }
    return (colon < 0 ? h : h.substring(0, colon)).toLowerCase(Locale.ROOT);
  }

  boolean ownName(String host) {
    return host != null
        && !host.isEmpty()
        && (names.contains(host) || domains.stream().anyMatch(host::endsWith));
  }

  /** Why {@code x} is refused, or null when it may be routed. */
  Refusal refusal(HttpExchange x, String path) {
    String host = x.getRequestHeaders().getFirst("Host");
    if (host != null && !ownName(hostOf(host))) {
      return new Refusal(
          403,
          "the Host header names another host than this API's; a node"
              + " answers to its own address, loopback's names and anvil.http.allowed-hosts");
    }
    String origin = x.getRequestHeaders().getFirst("Origin");
    if (origin != null && !ownOrigin(origin)) {
      return new Refusal(403, "requests from web pages of another origin are refused");
    }
    if (x.getRequestMethod().equals("POST")) {
      String type = x.getRequestHeaders().getFirst("Content-Type");
      String media = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      boolean hasBody =
          !"0".equals(x.getRequestHeaders().getFirst("Content-Length")) && path.equals("/api/jobs");
      if ((hasBody || type != null)
          && !media.equals("application/json")
          && !media.equals("application/hocon")) {
        return new Refusal(
            415, "a POST body must be Content-Type: application/json or" + " application/hocon");
      }
    }
    if (!loopback && !path.startsWith("/health/") && !authorized(x)) {
      return new Refusal(401, NEEDS_TOKEN);
    }
    return null;
  }

  private boolean ownOrigin(String origin) {
    try {
      URI uri = new URI(origin.trim());
      String scheme = uri.getScheme();
      return ("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
          && uri.getHost() != null
          && ownName(bare(uri.getHost()));
    } catch (URISyntaxException e) {
      return false; // "null" (a sandboxed page, a file) or garbage
    }
  }

  /** Whether {@code x} carries the bearer token (compared in constant time). */
  boolean authorized(HttpExchange x) {
    String given = x.getRequestHeaders().getFirst("Authorization");
    return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected);
  }
}
