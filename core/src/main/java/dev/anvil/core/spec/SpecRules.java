package dev.anvil.core.spec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a node accepts in a job that reaches it from another process (HTTP, cluster messages,
 * checkpoint files, its own journal): the size limits, the folders its data may come from and the
 * model classes it may load. Read from {@code anvil.limits}, {@code anvil.data} and {@code
 * anvil.models} (core's reference.conf documents each key). The size limits apply to job files read
 * from the user's own disk as well; the folders and classes only to jobs from elsewhere.
 *
 * @param maxSpecBytes largest job text, in UTF-8 bytes
 * @param maxParameters most model parameters; also bounded by the cluster's frame size
 * @param maxDataBytes most bytes of training data held in memory (or of data files)
 * @param allowedDataRoots folders (real paths, symbolic links resolved) that file data must be in
 * @param allowedClasses fully qualified names of the {@code Model} classes a job may name
 */
public record SpecRules(
    int maxSpecBytes,
    long maxParameters,
    long maxDataBytes,
    List<Path> allowedDataRoots,
    Set<String> allowedClasses) {

  /** Room in a parameter message beyond the parameters themselves (ids, tree nodes, framing). */
  public static final long FRAME_OVERHEAD = 64 * 1024;

  /** The longest Java array: no data set or parameter vector may have more elements. */
  static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  public SpecRules {
    allowedDataRoots = List.copyOf(allowedDataRoots);
    allowedClasses = Set.copyOf(allowedClasses);
  }

  /**
   * The rules of a node configured by {@code config}. When it holds Pekko's {@code
   * maximum-frame-size}, no model may have more parameters than one message can carry. Allowed
   * roots that do not exist are left out (nothing can be under them).
   */
  public static SpecRules from(Config config) {
    long maxParameters = config.getLong("anvil.limits.parameters");
    if (maxParameters <= 0) {
      throw new IllegalArgumentException(
          "anvil.limits.parameters = " + maxParameters + ": must be > 0");
    }
    String frameKey = "pekko.remote.artery.advanced.maximum-frame-size";
    if (config.hasPath(frameKey)) {
      maxParameters =
          Math.min(maxParameters, Math.max(0, (config.getBytes(frameKey) - FRAME_OVERHEAD) / 4));
    }
    long specBytes = positive(config, "anvil.limits.spec-bytes");
    if (specBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "anvil.limits.spec-bytes = " + specBytes + ": must be at most " + Integer.MAX_VALUE);
    }
    List<Path> roots = new ArrayList<>();
    for (String root : config.getStringList("anvil.data.allowed-roots")) {
      Path p = Path.of(root);
      if (!p.isAbsolute()) {
        throw new IllegalArgumentException(
            "anvil.data.allowed-roots holds " + root + ": every root must be an absolute path");
      }
      try {
        roots.add(p.toRealPath());
      } catch (IOException e) {
        // A root that does not exist allows nothing.
      }
    }
    return new SpecRules(
        (int) specBytes,
        maxParameters,
        positive(config, "anvil.limits.data-bytes"),
        roots,
        Set.copyOf(config.getStringList("anvil.models.allowed-classes")));
  }

  /**
   * The rules of core's reference.conf (and system properties) without a frame-size bound: for a
   * job run in this process. Nodes use {@link #from} with their whole configuration.
   */
  public static SpecRules defaults() {
    return from(
        ConfigFactory.systemProperties()
            .withFallback(ConfigFactory.defaultReference())
            .withoutPath("pekko"));
  }

  /**
   * The configured {@code anvil.data.allowed-roots} of this JVM and {@code folders} (absolute,
   * normalised): the setting for nodes that may also read a user's own data folders.
   */
  public static List<String> rootsWith(List<Path> folders) {
    List<String> roots =
        new ArrayList<>(ConfigFactory.load().getStringList("anvil.data.allowed-roots"));
    folders.forEach(f -> roots.add(f.toAbsolutePath().normalize().toString()));
    return roots;
  }

  /** Whether {@code realPath} (symbolic links already resolved) lies in an allowed root. */
  boolean allows(Path realPath) {
    return allowedDataRoots.stream().anyMatch(realPath::startsWith);
  }

  /** A size in bytes ({@code 64KiB}, {@code 1GiB}) that must be > 0. */
  private static long positive(Config config, String key) {
    long v = config.getBytes(key);
    if (v <= 0) {
      throw new IllegalArgumentException(key + " = " + v + ": must be > 0");
    }
    return v;
  }
}
