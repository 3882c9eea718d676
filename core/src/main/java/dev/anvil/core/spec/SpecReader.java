package dev.anvil.core.spec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.DoublePredicate;
import java.util.function.LongPredicate;

/**
 * Reads typed fields from a HOCON tree and records a {@link Problem} for each one that is missing,
 * of the wrong type or out of range, so that a user sees every mistake at once. A failed read
 * returns a harmless placeholder; callers check {@link #ok()} before using the values.
 */
final class SpecReader {
  private final Config config;
  private final boolean echoValues;
  private final List<Problem> problems = new ArrayList<>();

  /**
   * {@code echoValues}: whether problems quote the values found (a job file of the user's own) or
   * only say what kind of value it was (a job from elsewhere).
   */
  SpecReader(Config config, boolean echoValues) {
    this.config = config;
    this.echoValues = echoValues;
  }

  boolean ok() {
    return problems.isEmpty();
  }

  List<Problem> problems() {
    return problems;
  }

  void problem(String path, String value, String expected) {
    problems.add(new Problem(path, value, expected));
  }

  boolean has(String path) {
    return config.hasPathOrNull(path) && !config.getIsNull(path);
  }

  /** The value at {@code path} as written, or only its kind when values are not echoed. */
  String render(String path) {
    if (!has(path)) {
      return "missing";
    }
    return render(config.getValue(path));
  }

  String render(ConfigValue v) {
    if (echoValues) {
      return v.render(ConfigRenderOptions.concise());
    }
    switch (v.valueType()) {
      case OBJECT:
        return "a section";
      case LIST:
        return "a list";
      case NUMBER:
        return "a number";
      case BOOLEAN:
        return "a boolean";
      case NULL:
        return "null";
      default:
        return "a string";
    }
  }

  /** Reports keys under {@code path} that are not in {@code allowed} (usually typos). */
  void rejectUnknownKeys(String path, Set<String> allowed) {
    if (!has(path) || config.getValue(path).valueType() != ConfigValueType.OBJECT) {
      return;
    }
    for (String key : new TreeSet<>(config.getObject(path).keySet())) {
      if (!allowed.contains(key)) {
        problem(
            path + "." + (echoValues ? key : quoteIfNeeded(key)),
            render(path + "." + quoteIfNeeded(key)),
            "unknown key; allowed here: " + String.join(", ", new TreeSet<>(allowed)));
      }
    }
  }

  static String quoteIfNeeded(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key.replace("\"", "\\\"") + "\"";
  }

  boolean isObject(String path) {
    return has(path) && config.getValue(path).valueType() == ConfigValueType.OBJECT;
  }

  /** A required section; reports it when missing or not an object. */
  boolean section(String path) {
    if (!has(path)) {
      problem(path, "missing", "a required section");
      return false;
    }
    if (!isObject(path)) {
      problem(path, render(path), "must be a section { ... }");
      return false;
    }
    return true;
  }

  String string(String path, String defaultValue) {
    if (!has(path)) {
      if (defaultValue == null) {
        problem(path, "missing", "a required string");
        return "";
      }
      return defaultValue;
    }
    ConfigValue v = config.getValue(path);
    if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
      problem(path, render(path), "must be a string");
      return "";
    }
    return String.valueOf(v.unwrapped());
  }

  /**
   * One of {@code allowed} (case-insensitive), returned in lower case; null (with a problem
   * recorded) when the value is missing and required, or not allowed.
   */
  String choice(String path, String defaultValue, List<String> allowed) {
    String s = string(path, defaultValue).trim().toLowerCase(Locale.ROOT);
    if (has(path) && !allowed.contains(s)) {
      problem(path, render(path), "must be one of " + String.join(" | ", allowed));
      return null;
    }
    return has(path) || defaultValue != null ? s : null;
  }

  /**
   * {@link #choice} as the constant of {@code type} named like the choice in upper case, or like
   * {@code defaultValue} (required here) when the value is not allowed.
   */
  <E extends Enum<E>> E choice(
      String path, String defaultValue, List<String> allowed, Class<E> type) {
    String s = choice(path, defaultValue, allowed);
    return Enum.valueOf(type, (s == null ? defaultValue : s).toUpperCase(Locale.ROOT));
  }

  long wholeNumber(String path, Long defaultValue, LongPredicate valid, String expected) {
    if (!has(path)) {
      if (defaultValue == null) {
        problem(path, "missing", "required: " + expected);
        return 0;
      }
      return defaultValue;
    }
    try {
      ConfigValue v = config.getValue(path);
      if (v.valueType() != ConfigValueType.NUMBER && v.valueType() != ConfigValueType.STRING) {
        throw new ConfigException.WrongType(v.origin(), path, "number", v.valueType().name());
      }
      double d = config.getDouble(path);
      if (d != Math.rint(d) || Double.isInfinite(d) || Math.abs(d) > 9.0e15) {
        problem(path, render(path), expected);
        return 0;
      }
      long n = config.getLong(path);
      if (!valid.test(n)) {
        problem(path, render(path), expected);
        return 0;
      }
      return n;
    } catch (ConfigException e) {
      problem(path, render(path), expected);
      return 0;
    }
  }

  int wholeNumberInt(String path, Integer defaultValue, LongPredicate valid, String expected) {
    long n =
        wholeNumber(
            path,
            defaultValue == null ? null : (long) defaultValue,
            v -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE && valid.test(v),
            expected);
    return (int) n;
  }

  double number(String path, Double defaultValue, DoublePredicate valid, String expected) {
    if (!has(path)) {
      if (defaultValue == null) {
        problem(path, "missing", "required: " + expected);
        return Double.NaN;
      }
      return defaultValue;
    }
    double d;
    try {
      ConfigValue v = config.getValue(path);
      if (v.valueType() == ConfigValueType.NUMBER) {
        d = config.getDouble(path);
      } else if (v.valueType() == ConfigValueType.STRING) {
        d = Double.parseDouble(config.getString(path).trim());
      } else {
        problem(path, render(path), expected);
        return Double.NaN;
      }
    } catch (NumberFormatException | ConfigException e) {
      problem(path, render(path), expected);
      return Double.NaN;
    }
    if (Double.isNaN(d) || !valid.test(d)) {
      problem(path, render(path), expected);
      return Double.NaN;
    }
    return d;
  }

  boolean bool(String path, boolean defaultValue) {
    if (!has(path)) {
      return defaultValue;
    }
    try {
      return config.getBoolean(path);
    } catch (ConfigException e) {
      problem(path, render(path), "must be true or false");
      return defaultValue;
    }
  }

  Optional<Integer> optionalPositiveInt(String path) {
    if (!has(path)) {
      return Optional.empty();
    }
    int n = wholeNumberInt(path, null, v -> v > 0, "a whole number > 0");
    return n > 0 ? Optional.of(n) : Optional.empty();
  }

  /** A list of whole numbers > 0 with at least {@code minSize} entries. */
  List<Integer> positiveIntList(String path, int minSize) {
    String expected = "a list of at least " + minSize + " whole numbers > 0, e.g. [784, 128, 10]";
    if (!has(path)) {
      problem(path, "missing", "required: " + expected);
      return List.of();
    }
    if (config.getValue(path).valueType() != ConfigValueType.LIST) {
      problem(path, render(path), expected);
      return List.of();
    }
    List<Integer> out = new ArrayList<>();
    List<? extends ConfigValue> values = config.getList(path);
    for (int i = 0; i < values.size(); i++) {
      ConfigValue v = values.get(i);
      Object raw = v.unwrapped();
      if (raw instanceof Number num
          && num.doubleValue() == Math.rint(num.doubleValue())
          && num.doubleValue() > 0
          && num.doubleValue() <= 1_000_000) {
        out.add(num.intValue());
      } else {
        problem(path + "[" + i + "]", render(v), "a whole number > 0 (and at most 1000000)");
      }
    }
    if (values.size() < minSize) {
      problem(path, render(path), expected);
    }
    return out;
  }
}
