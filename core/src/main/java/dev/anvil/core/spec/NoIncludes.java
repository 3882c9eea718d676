package dev.anvil.core.spec;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import java.io.File;
import java.net.URL;

/**
 * The includer of a job from elsewhere: every {@code include} (plain, file, url, classpath,
 * required) fails the parse before anything is read. It implements all four includer interfaces,
 * since the parser falls back to its own file, URL and classpath loading for any it lacks, and
 * ignores the fallback it is offered for the same reason.
 */
final class NoIncludes
    implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {
  /** Marks the parse failure, so that the error can say what was refused. */
  static final String REFUSED = "include is not allowed here";

  @Override
  public ConfigIncluder withFallback(ConfigIncluder fallback) {
    return this;
  }

  @Override
  public ConfigObject include(ConfigIncludeContext context, String what) {
    throw refused();
  }

  @Override
  public ConfigObject includeFile(ConfigIncludeContext context, File what) {
    throw refused();
  }

  @Override
  public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
    throw refused();
  }

  @Override
  public ConfigObject includeResources(ConfigIncludeContext context, String what) {
    throw refused();
  }

  private static ConfigException refused() {
    return new ConfigException.Generic(REFUSED);
  }
}
