package dev.anvil.core.spec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Turns a job (HOCON, the public contract documented in the README) into a {@link JobSpec}, or
 * throws a {@link JobSpecException} listing every invalid field with its path, what is wrong and
 * what is allowed.
 *
 * <p>Two trust levels. A job file the CLI reads from the user's own disk ({@link #parse(Path)},
 * {@link #parse(String, String, Path)}) may use HOCON includes and substitutions (of other keys,
 * system properties and environment variables), and its errors quote its values. A job that arrives
 * from another process ({@link #parseUntrusted}: HTTP bodies, cluster messages, the job inside a
 * checkpoint file, the journal) is parsed with every include refused and every substitution refused
 * before anything is resolved; its errors name keys and never echo values; its data must lie in the
 * node's allowed folders and its model class on the node's allow list. Both check the size limits
 * of {@link SpecRules} with exact arithmetic before anything is allocated. Relative data paths of a
 * file are resolved against the file's folder.
 *
 * <p>This class parses the text at its trust level; {@link JobSection} checks the fields.
 */
public final class JobSpecParser {
  private static final String SPEC = "job spec";

  private JobSpecParser() {}

  /**
   * Reads and validates a job file from the user's own disk. Includes and substitutions are
   * allowed; a relative include is found next to the file.
   */
  public static JobSpec parse(Path file) {
    if (!Files.isReadable(file)) {
      throw new JobSpecException(
          file.toString(),
          List.of(
              new Problem(
                  "job file",
                  file.toString(),
                  Files.exists(file)
                      ? "cannot be read: no permission"
                      : "cannot be read: no such file")));
    }
    Path base = file.toAbsolutePath().getParent();
    return parseTrusted(
        () -> ConfigFactory.parseFile(file.toFile(), trustedOptions(file.toString())),
        file.toString(),
        base);
  }

  /**
   * Validates job text the user wrote (includes and substitutions allowed). {@code origin} names it
   * in messages; {@code baseDir} resolves relative data paths.
   */
  public static JobSpec parse(String text, String origin, Path baseDir) {
    return parseTrusted(
        () -> ConfigFactory.parseString(text, trustedOptions(origin)), origin, baseDir);
  }

  private static ConfigParseOptions trustedOptions(String origin) {
    return ConfigParseOptions.defaults()
        .setOriginDescription(origin)
        .setSyntax(ConfigSyntax.CONF)
        .setAllowMissing(false);
  }

  private static JobSpec parseTrusted(Supplier<Config> parser, String origin, Path baseDir) {
    Config config;
    try {
      config = parser.get().resolve();
    } catch (ConfigException e) {
      int line = e.origin() == null ? -1 : e.origin().lineNumber();
      String where = line > 0 ? "line " + line : "unknown line";
      throw new JobSpecException(
          origin, List.of(new Problem("job file", where, "not valid HOCON: " + stripOrigin(e))));
    }
    return JobSection.validate(config, origin, baseDir, SpecRules.defaults(), false);
  }

  /**
   * Validates a job that came from another process, under a node's {@code rules}: the text must be
   * within {@code anvil.limits.spec-bytes}, hold no include and no substitution, and name data and
   * classes the rules allow. Errors name keys, never values. The returned spec's data path is the
   * real path that was checked.
   */
  public static JobSpec parseUntrusted(String text, String origin, SpecRules rules) {
    checkSize(text, origin, rules);
    Config config = parseWithoutIncludes(text, origin);
    refuseSubstitutions(config, origin);
    return JobSection.validate(config, origin, null, rules, true);
  }

  /** Refuses text over {@code anvil.limits.spec-bytes} (a longer String is over in any case). */
  private static void checkSize(String text, String origin, SpecRules rules) {
    long bytes =
        text.length() > rules.maxSpecBytes()
            ? text.length()
            : text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > rules.maxSpecBytes()) {
      throw new JobSpecException(
          origin,
          List.of(
              new Problem(
                  SPEC,
                  "over " + rules.maxSpecBytes() + " bytes",
                  "at most anvil.limits.spec-bytes = " + rules.maxSpecBytes() + " bytes")));
    }
  }

  /** The unresolved tree of {@code text}; an include fails the parse before it is read. */
  private static Config parseWithoutIncludes(String text, String origin) {
    try {
      return ConfigFactory.parseString(
          text,
          ConfigParseOptions.defaults()
              .setOriginDescription(origin)
              .setSyntax(ConfigSyntax.CONF)
              .setAllowMissing(false)
              .setIncluder(new NoIncludes()));
    } catch (ConfigException e) {
      int line = e.origin() == null ? -1 : e.origin().lineNumber();
      String where = line > 0 ? "line " + line : "unknown line";
      String why =
          String.valueOf(e.getMessage()).contains(NoIncludes.REFUSED)
              ? "holds an include, which a job sent to a node may not use; send the job as one"
                  + " text (anvil train and anvil validate resolve includes on your machine)"
              : "not valid HOCON or JSON (the parser's message is not shown for a job from"
                  + " elsewhere; anvil validate FILE shows it)";
      throw new JobSpecException(origin, List.of(new Problem(SPEC, where, why)));
    }
  }

  /** Refuses a tree holding substitutions, naming each path that holds one. */
  private static void refuseSubstitutions(Config config, String origin) {
    List<String> substituted = new ArrayList<>();
    unresolved(config.root(), "", substituted);
    if (!substituted.isEmpty()) {
      List<Problem> problems = new ArrayList<>();
      for (String path : substituted) {
        problems.add(
            new Problem(
                path,
                "a substitution",
                "a job sent to a node may not use"
                    + " substitutions (${...}, +=); send it resolved (anvil train and anvil validate"
                    + " resolve them on your machine)"));
      }
      throw new JobSpecException(origin, problems);
    }
  }

  /** Adds the paths of values under {@code object} that are substitutions or hold one. */
  private static void unresolved(ConfigObject object, String prefix, List<String> out) {
    for (String key : new TreeSet<>(object.keySet())) {
      String path =
          prefix.isEmpty()
              ? SpecReader.quoteIfNeeded(key)
              : prefix + "." + SpecReader.quoteIfNeeded(key);
      unresolved(object.get(key), path, out);
    }
  }

  private static void unresolved(ConfigValue value, String path, List<String> out) {
    ConfigValueType type;
    try {
      type = value.valueType();
    } catch (ConfigException.NotResolved e) {
      out.add(path);
      return;
    }
    if (type == ConfigValueType.OBJECT) {
      unresolved((ConfigObject) value, path, out);
    } else if (type == ConfigValueType.LIST) {
      ConfigList list = (ConfigList) value;
      for (int i = 0; i < list.size(); i++) {
        unresolved(list.get(i), path + "[" + i + "]", out);
      }
    }
  }

  /** The parser's message without the "origin: line:" prefix that the problem already shows. */
  private static String stripOrigin(ConfigException e) {
    String m = e.getMessage();
    String prefix = e.origin() == null ? null : e.origin().description() + ": ";
    return prefix != null && m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }
}
