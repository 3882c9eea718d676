package dev.anvil.runtime.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * The configuration of a node or client: system properties, then the given overrides, then
 * application.conf, then Anvil's settings of other libraries (anvil-node.conf,
 * anvil-persistence.conf), then every reference.conf. Anvil's Pekko settings live outside
 * reference.conf because reference.conf files merge in classpath order, and Pekko's own defaults
 * for the same keys could win. With {@code anvil.tls.directory} set, Artery runs mutual TLS with
 * that folder's credentials.
 */
public final class AnvilConfig {
  private AnvilConfig() {}

  public static Config load(Config overrides) {
    Config anvil =
        ConfigFactory.parseResources("anvil-node.conf")
            .withFallback(ConfigFactory.parseResources("anvil-persistence.conf"));
    Config config =
        ConfigFactory.load(
            overrides.withFallback(ConfigFactory.defaultApplication()).withFallback(anvil));
    // A TLS folder turns on Artery's mutual TLS (its settings win over every file's).
    return dev.anvil.runtime.tls.TlsFiles.apply(config);
  }
}
