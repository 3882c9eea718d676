package dev.anvil.runtime.launcher;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.anvil.core.spec.DataSpec;
import dev.anvil.core.spec.JobSpec;
import dev.anvil.persistence.DatabaseSettings;
import dev.anvil.runtime.client.ClusterClient;
import dev.anvil.runtime.node.NodeSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How to start a {@link LocalCluster}: its size, heap, data folder, database, deadlines, JVM
 * options and TLS. {@code nodeJvmOptions} holds extra JVM options per node (entry i for node i + 1;
 * missing entries mean none), on top of {@code commonJvmOptions} and ANVIL_NODE_JAVA_OPTS for every
 * node; {@code clientConfig} is added to the launcher's client actor system's configuration.
 */
public record LocalClusterSettings(
    int nodes,
    int slotsPerNode,
    String heap,
    Path dataDirectory,
    DatabaseSettings externalDatabase,
    Duration startTimeout,
    List<List<String>> nodeJvmOptions,
    List<String> commonJvmOptions,
    Config clientConfig,
    boolean downExitedNodes,
    boolean tls) {
  public LocalClusterSettings {
    if (nodes < 1) {
      throw new IllegalArgumentException("--nodes = " + nodes + ": must be at least 1");
    }
    if (slotsPerNode < 1) {
      throw new IllegalArgumentException(
          "worker slots per node = " + slotsPerNode + ": must be at least 1");
    }
  }

  public static LocalClusterSettings of(int nodes, int slotsPerNode, Path dataDirectory) {
    return new LocalClusterSettings(
        nodes,
        slotsPerNode,
        "2g",
        dataDirectory,
        null,
        Duration.ofSeconds(90),
        List.of(),
        List.of(),
        ConfigFactory.empty(),
        true,
        true);
  }

  public LocalClusterSettings withNodeJvmOptions(List<List<String>> options) {
    return new LocalClusterSettings(
        nodes,
        slotsPerNode,
        heap,
        dataDirectory,
        externalDatabase,
        startTimeout,
        List.copyOf(options),
        commonJvmOptions,
        clientConfig,
        downExitedNodes,
        tls);
  }

  /** Adds JVM options for every node, also nodes added or restarted later. */
  public LocalClusterSettings withCommonJvmOptions(List<String> options) {
    return new LocalClusterSettings(
        nodes,
        slotsPerNode,
        heap,
        dataDirectory,
        externalDatabase,
        startTimeout,
        nodeJvmOptions,
        List.copyOf(options),
        clientConfig,
        downExitedNodes,
        tls);
  }

  /** Adds configuration to the launcher's client actor system. */
  public LocalClusterSettings withClientConfig(Config config) {
    return new LocalClusterSettings(
        nodes,
        slotsPerNode,
        heap,
        dataDirectory,
        externalDatabase,
        startTimeout,
        nodeJvmOptions,
        commonJvmOptions,
        config,
        downExitedNodes,
        tls);
  }

  public LocalClusterSettings withHeap(String heap) {
    return new LocalClusterSettings(
        nodes,
        slotsPerNode,
        heap,
        dataDirectory,
        externalDatabase,
        startTimeout,
        nodeJvmOptions,
        commonJvmOptions,
        clientConfig,
        downExitedNodes,
        tls);
  }

  /**
   * Whether the launcher downs a node's incarnation as soon as its process exits (default), as an
   * operator would; off, only the split-brain resolver downs it (after detection and stable-after),
   * as on hosts without a launcher.
   */
  public LocalClusterSettings withDownExitedNodes(boolean down) {
    return new LocalClusterSettings(
        nodes,
        slotsPerNode,
        heap,
        dataDirectory,
        externalDatabase,
        startTimeout,
        nodeJvmOptions,
        commonJvmOptions,
        clientConfig,
        down,
        tls);
  }

  /**
   * Lets the nodes read data files in {@code folders} as well as in the configured {@code
   * anvil.data.allowed-roots}: the folders of a job file of the user's own, which the nodes
   * otherwise treat as a job from elsewhere.
   */
  public LocalClusterSettings allowingDataIn(List<Path> folders) {
    return folders.isEmpty()
        ? this
        : withNodeSettings(NodeSettings.builder().allowDataAlsoIn(folders));
  }

  /** Lets the nodes read the data of {@code spec} (see {@link #allowingDataIn}). */
  public LocalClusterSettings allowingDataOf(JobSpec spec) {
    if (spec.data() instanceof DataSpec.Idx idx) {
      return allowingDataIn(List.of(idx.path()));
    } else if (spec.data() instanceof DataSpec.Csv csv
        && csv.path().toAbsolutePath().getParent() != null) {
      return allowingDataIn(List.of(csv.path().toAbsolutePath().getParent()));
    }
    return this;
  }

  /**
   * Whether members talk mutual TLS (default): the launcher makes a throw-away CA for the run (its
   * key never written), one member certificate in {@code dataDirectory/tls} (0600 files, 0700
   * folder) for the nodes and its client. Off: plain TCP on loopback, to measure what TLS costs.
   */
  public LocalClusterSettings withTls(boolean on) {
    return new LocalClusterSettings(
        nodes,
        slotsPerNode,
        heap,
        dataDirectory,
        externalDatabase,
        startTimeout,
        nodeJvmOptions,
        commonJvmOptions,
        clientConfig,
        downExitedNodes,
        on);
  }

  /**
   * Mutual TLS with the member credentials in {@code folder} (anvil certs issue) instead of a
   * throw-away CA: for a cluster whose CA is the user's own.
   */
  public LocalClusterSettings withTlsFolder(Path folder) {
    return withNodeSettings(NodeSettings.builder().tls(folder))
        .withClientConfig(ClusterClient.tls(folder).withFallback(clientConfig));
  }

  /** Every node gets {@code node}'s settings, in place of common options for the same keys. */
  private LocalClusterSettings withNodeSettings(NodeSettings.Builder node) {
    List<String> options = new ArrayList<>(commonJvmOptions);
    options.removeIf(node::setsKeyOf);
    options.addAll(node.jvmOptions());
    return withCommonJvmOptions(options);
  }

  List<String> jvmOptionsOf(int index) {
    return index < nodeJvmOptions.size() ? nodeJvmOptions.get(index) : List.of();
  }
}
