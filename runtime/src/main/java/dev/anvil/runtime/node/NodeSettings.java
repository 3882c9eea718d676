package dev.anvil.runtime.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.core.spec.SpecRules;
import dev.anvil.runtime.launcher.LocalCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The settings of an embedded node, typed, for {@link AnvilNode#start(Config)}: the builder checks
 * each value when it is given (the error names the setting, the key it sets, the value and what is
 * allowed) and {@link Builder#build()} gives the {@link Config} of exactly the keys that were set.
 * Everything else keeps its default from the modules' reference.conf, and a raw {@code Config} can
 * still set any key (e.g. {@code .build().withFallback(more)}).
 *
 * <p>The one place a node's configuration is built from its settings: {@code anvil node} starts a
 * node in its own JVM with {@link Builder#build()}, and a {@link LocalCluster} starts each node JVM
 * with the same settings as {@link Builder#jvmOptions()}, which give the same configuration.
 *
 * <pre>{@code
 * Config settings = NodeSettings.builder()
 *     .host("10.0.0.5").port(25520)
 *     .seeds(List.of("10.0.0.4:25520", "10.0.0.6:25520"))
 *     .tls(Path.of("/etc/anvil/tls"))
 *     .database("jdbc:postgresql://db:5432/anvil", "anvil", System.getenv("DB_PASSWORD"))
 *     .slots(4)
 *     .http("127.0.0.1", 8080)
 *     .allowModelClasses(MyModel.class)
 *     .build();
 * AnvilNode node = AnvilNode.start(settings);
 * }</pre>
 */
public final class NodeSettings {
  private NodeSettings() {}

  public static Builder builder() {
    return new Builder(Map.of());
  }

  /**
   * Immutable: every method returns a new builder, so one can be shared and extended (as {@link
   * SingleNode} does with its database).
   */
  public static final class Builder {
    private static final Pattern HOST_PORT =
        Pattern.compile("(\\[[0-9a-fA-F:.]+]|[^:\\s/@]+)" + ":(\\d{1,5})");
    private final Map<String, Object> values;

    private Builder(Map<String, Object> values) {
      this.values = values;
    }

    private Builder with(String key, Object value) {
      Map<String, Object> next = new LinkedHashMap<>(values);
      next.put(key, value);
      return new Builder(Map.copyOf(next));
    }

    private Builder without(String key) {
      Map<String, Object> next = new LinkedHashMap<>(values);
      next.remove(key);
      return new Builder(Map.copyOf(next));
    }

    /** The address other members reach this node's cluster port at (default 127.0.0.1). */
    public Builder host(String host) {
      return with(
          "pekko.remote.artery.canonical.hostname",
          nonBlank(
              "host", host, "pekko.remote.artery.canonical.hostname", "a host name or IP address"));
    }

    /** The cluster port (default 0: any free port, see {@link AnvilNode#address()}). */
    public Builder port(int port) {
      return with(
          "pekko.remote.artery.canonical.port",
          port("port", port, "pekko.remote.artery.canonical.port"));
    }

    /**
     * The members to join, as {@code host:port} of their cluster ports (this node's own address
     * first on the one node that may form the cluster). None (the default): this node forms a
     * one-node cluster of its own.
     */
    public Builder seeds(List<String> hostPorts) {
      String[] seeds = new String[hostPorts.size()];
      for (int i = 0; i < seeds.length; i++) {
        String seed = hostPorts.get(i);
        if (seed == null
            || !HOST_PORT.matcher(seed).matches()
            || Integer.parseInt(seed.substring(seed.lastIndexOf(':') + 1)) > 65535) {
          throw invalid(
              "seeds[" + i + "]",
              "pekko.cluster.seed-nodes",
              seed,
              "HOST:PORT of a member's cluster port, e.g. 10.0.0.4:25520");
        }
        seeds[i] = "pekko://anvil@" + seed;
      }
      return with("pekko.cluster.seed-nodes", List.of(seeds));
    }

    /**
     * The PostgreSQL database of the journal. Required. The password is not logged; an empty one
     * reads {@code ANVIL_DB_PASSWORD} instead ({@link #database(String, String)}).
     */
    public Builder database(String url, String user, String password) {
      if (url == null || !url.startsWith("jdbc:postgresql://")) {
        throw invalid(
            "database url",
            "anvil.persistence.url",
            url,
            "a PostgreSQL JDBC URL, jdbc:postgresql://HOST:PORT/DATABASE");
      }
      Builder b =
          with("anvil.persistence.url", url)
              .with(
                  "anvil.persistence.user",
                  nonBlank(
                      "database user", user, "anvil.persistence.user", "a database user name"));
      if (password == null) {
        throw invalid(
            "database password",
            "anvil.persistence.password",
            null,
            "a password, or \"\" to read ANVIL_DB_PASSWORD");
      }
      return password.isEmpty()
          ? b.without("anvil.persistence.password")
          : b.with("anvil.persistence.password", password);
    }

    /** The journal's database, its password from the environment ({@code ANVIL_DB_PASSWORD}). */
    public Builder database(String url, String user) {
      return database(url, user, "");
    }

    /** Create the journal tables at start when missing (default on; idempotent). */
    public Builder createSchema(boolean create) {
      return with("anvil.persistence.create-schema", create);
    }

    /** Worker slots of this node: jobs it computes shards for at once (default 2). */
    public Builder slots(int slots) {
      if (slots < 1 || slots > 1024) {
        throw invalid("slots", "anvil.worker.slots", slots, "1 to 1024");
      }
      return with("anvil.worker.slots", slots);
    }

    /** Serve the HTTP API (jobs, members, /metrics) on {@code host:port} (default on, loopback). */
    public Builder http(String host, int port) {
      return with("anvil.http.enabled", true)
          .with(
              "anvil.http.host",
              nonBlank("http host", host, "anvil.http.host", "an address to bind, e.g. 127.0.0.1"))
          .with("anvil.http.port", port("http port", port, "anvil.http.port"));
    }

    /** No HTTP API (and no /metrics): the service follows its jobs through {@link JobHandle}. */
    public Builder httpOff() {
      return with("anvil.http.enabled", false);
    }

    /**
     * The HTTP API's bearer token (at least 16 characters; default: {@code ANVIL_HTTP_TOKEN}, or
     * the token file). Checked by the node when it starts.
     */
    public Builder httpToken(String token) {
      return with(
          "anvil.http.token",
          nonBlank("http token", token, "anvil.http.token", "a token of at least 16 characters"));
    }

    /**
     * Mutual TLS between members with the credentials in {@code folder} ({@code anvil certs issue}
     * writes it). Required for a node listening off loopback, unless {@link #insecureTransport()}.
     */
    public Builder tls(Path folder) {
      if (folder == null) {
        throw invalid(
            "tls",
            "anvil.tls.directory",
            null,
            "a folder with node.p12, trust.p12" + " and password");
      }
      return with("anvil.tls.directory", folder.toAbsolutePath().toString());
    }

    /**
     * Whether the HTTP API is served over HTTPS with this node's TLS certificate (needs {@link
     * #tls}; default off).
     */
    public Builder https(boolean on) {
      return with("anvil.http.https", on);
    }

    /** Plain TCP between members off loopback: anyone who reaches the port can join. */
    public Builder insecureTransport() {
      return insecureTransport(true);
    }

    /** Whether members talk plain TCP off loopback ({@link #insecureTransport()}; default off). */
    public Builder insecureTransport(boolean on) {
      return with("anvil.tls.insecure-transport", on);
    }

    /** Model classes jobs may name ({@code model { type = class }}), e.g. the service's own. */
    public Builder allowModelClasses(Class<?>... classes) {
      return with(
          "anvil.models.allowed-classes", Arrays.stream(classes).map(Class::getName).toList());
    }

    /**
     * Folders jobs may read data from ({@code data.path}), replacing the default ({@code
     * /usr/share/datasets}). Each must be absolute.
     */
    public Builder allowDataRoots(Path... roots) {
      for (int i = 0; i < roots.length; i++) {
        if (roots[i] == null || !roots[i].isAbsolute()) {
          throw invalid(
              "data roots[" + i + "]", "anvil.data.allowed-roots", roots[i], "an absolute folder");
        }
      }
      return with("anvil.data.allowed-roots", Arrays.stream(roots).map(Path::toString).toList());
    }

    /**
     * Folders jobs may read data from besides the roots this JVM's configuration allows ({@code
     * anvil.data.allowed-roots}, by default {@code /usr/share/datasets}): a job file of the user's
     * own, which a node otherwise treats as a job from elsewhere.
     */
    public Builder allowDataAlsoIn(List<Path> folders) {
      return allowDataRoots(
          SpecRules.rootsWith(folders).stream().map(Path::of).toArray(Path[]::new));
    }

    /** The settings given so far, the journal's database among them. */
    public Config build() {
      if (!values.containsKey("anvil.persistence.url")) {
        throw new IllegalStateException(
            "NodeSettings: database(url, user, password) is"
                + " required (anvil.persistence.url): the node journals every job there");
      }
      return ConfigFactory.parseMap(values, "NodeSettings");
    }

    /**
     * The settings given so far as {@code -Dkey=value} options, sorted by key, for a node JVM that
     * reads its configuration from system properties ({@link NodeMain}): a list becomes {@code
     * key.0}, {@code key.1}, ..., which the configuration reads back as that list. A node started
     * with the options of a complete builder has the configuration {@link #build()} gives (the
     * password is never among them: the node reads {@code ANVIL_DB_PASSWORD}). Refuses an empty
     * list, which no option can express.
     */
    public List<String> jvmOptions() {
      List<String> options = new ArrayList<>();
      new TreeMap<>(values)
          .forEach(
              (key, value) -> {
                if (key.equals("anvil.persistence.password")) {
                  throw new IllegalStateException(
                      "NodeSettings database password"
                          + " (anvil.persistence.password): must be \"\" for a node JVM, which reads"
                          + " ANVIL_DB_PASSWORD (a password in its command line would show in ps)");
                }
                if (!(value instanceof List<?> list)) {
                  options.add("-D" + key + "=" + value);
                } else if (list.isEmpty()) {
                  throw new IllegalStateException(
                      "NodeSettings "
                          + key
                          + " = []: an empty list has no"
                          + " JVM options; leave the setting unset instead");
                } else {
                  for (int i = 0; i < list.size(); i++) {
                    options.add("-D" + key + "." + i + "=" + list.get(i));
                  }
                }
              });
      return options;
    }

    /** Whether {@code jvmOption} sets (a list element of) a key this builder sets. */
    public boolean setsKeyOf(String jvmOption) {
      return values.keySet().stream()
          .anyMatch(
              key ->
                  jvmOption.startsWith("-D" + key + "=") || jvmOption.startsWith("-D" + key + "."));
    }

    private static int port(String name, int port, String key) {
      if (port < 0 || port > 65535) {
        throw invalid(name, key, port, "0 (any free port) to 65535");
      }
      return port;
    }

    private static String nonBlank(String name, String value, String key, String allowed) {
      if (value == null || value.isBlank()) {
        throw invalid(name, key, value == null ? null : "\"" + value + "\"", allowed);
      }
      return value;
    }

    private static IllegalArgumentException invalid(
        String name, String key, Object value, String allowed) {
      return new IllegalArgumentException(
          "NodeSettings " + name + " (" + key + ") = " + value + ": must be " + allowed);
    }
  }
}
