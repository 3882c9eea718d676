package dev.anvil.runtime.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.persistence.EmbeddedDatabase;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Anvil in one JVM: an embedded PostgreSQL under a folder and one {@link AnvilNode} that forms a
 * cluster of its own on 127.0.0.1 (an ephemeral port) and journals to it. For a service that trains
 * beside its own work, for trying Anvil out, and for tests. Other nodes can join it through {@link
 * AnvilNode#address()}; a production service points {@code anvil.persistence.url} at its own
 * database and starts an {@link AnvilNode} itself.
 *
 * <pre>{@code
 * try (SingleNode anvil = SingleNode.start(dir, NodeSettings.builder().slots(2))) {
 *   TrainingResult r = anvil.node().submit(spec).result().toCompletableFuture().get();
 * }
 * }</pre>
 */
public final class SingleNode implements AutoCloseable {
  private final EmbeddedDatabase database;
  private final AnvilNode node;

  private SingleNode(EmbeddedDatabase database, AnvilNode node) {
    this.database = database;
    this.node = node;
  }

  /**
   * Starts the database (its files in {@code dir/postgres}, kept across restarts) and the node with
   * {@code settings} (its slots, HTTP API, allowed model classes...); the database is the embedded
   * one, whatever {@code settings} say. The node listens on 127.0.0.1, an ephemeral port, unless
   * {@code settings} give a host and port. When the node does not start, the database is stopped
   * again.
   */
  public static SingleNode start(Path dir, NodeSettings.Builder settings) {
    return start(
        dir,
        database ->
            settings.database(database.jdbcUrl(), database.user(), database.password()).build());
  }

  /**
   * As {@link #start(Path, NodeSettings.Builder)} with raw keys: {@code settings} (e.g. {@code
   * anvil.worker.slots}, {@code anvil.http.token}) go on top of the defaults.
   */
  public static SingleNode start(Path dir, Map<String, ?> settings) {
    return start(dir, database -> ConfigFactory.parseMap(settings));
  }

  private static SingleNode start(
      Path dir, java.util.function.Function<EmbeddedDatabase, Config> settings) {
    EmbeddedDatabase database = EmbeddedDatabase.start(dir.resolve("postgres"));
    try {
      Config defaults =
          ConfigFactory.parseMap(
              Map.of(
                  "anvil.persistence.url", database.jdbcUrl(),
                  "anvil.persistence.user", database.user(),
                  "anvil.persistence.password", database.password(),
                  "anvil.persistence.create-schema", true,
                  "pekko.remote.artery.canonical.hostname", "127.0.0.1",
                  "pekko.remote.artery.canonical.port", 0,
                  "pekko.cluster.seed-nodes", List.of()));
      return new SingleNode(
          database, AnvilNode.start(settings.apply(database).withFallback(defaults)));
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  public AnvilNode node() {
    return node;
  }

  public EmbeddedDatabase database() {
    return database;
  }

  /** Leaves the cluster gracefully, then stops the database. */
  @Override
  public void close() {
    try {
      node.close();
    } finally {
      database.close();
    }
  }
}
