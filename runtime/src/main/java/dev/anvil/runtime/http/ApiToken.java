package dev.anvil.runtime.http;

import dev.anvil.core.io.OwnerOnlyFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Set;

/**
 * The HTTP API's bearer token. Given ({@code anvil.http.token} or {@code ANVIL_HTTP_TOKEN}), it
 * must be at least {@link #MIN_LENGTH} characters and no known placeholder. Not given, the node
 * takes the one in the token file ({@code anvil.http.token-file}, default {@code
 * ~/.anvil/http-token}), or creates that file (mode 0600, in a 0700 folder) with a new token from
 * {@link SecureRandom}: every node of a user on one machine shares it, and the CLI reads the same
 * file, so nothing needs to pass the token on a command line (where {@code ps} would show it).
 */
public final class ApiToken {
  static final int MIN_LENGTH = 16;
  private static final Set<String> PLACEHOLDERS =
      Set.of(
          "changeme",
          "change-me",
          "change_me",
          "changeit",
          "secret",
          "password",
          "token",
          "anvil",
          "admin",
          "default",
          "example",
          "replace-me",
          "replaceme",
          "todo",
          "xxx",
          "test");

  private ApiToken() {}

  /** The default token file of this user. */
  public static Path defaultFile() {
    return Path.of(System.getProperty("user.home"), ".anvil", "http-token");
  }

  /**
   * Why {@code token} (given by the operator, under the name {@code key}) is refused, or null when
   * it is fine. Never quotes the token.
   */
  static String problem(String key, String token) {
    if (token.length() < MIN_LENGTH) {
      return key
          + " is "
          + token.length()
          + " characters long: a token needs at least "
          + MIN_LENGTH
          + " (e.g. openssl rand -base64 32)";
    }
    String plain = token.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "");
    for (String p : PLACEHOLDERS) {
      if (plain.replace(p, "").length() < 4) { // the placeholder, repeated or decorated
        return key
            + " is a placeholder, not a secret: generate one (e.g. openssl rand"
            + " -base64 32)";
      }
    }
    return null;
  }

  /**
   * The token in {@code file}, created with a new random token when it does not exist. A file
   * others may read is refused: whoever reads it can change the cluster's jobs.
   */
  public static String fromFile(Path file) {
    try {
      if (!Files.exists(file)) {
        create(file);
      }
      OwnerOnlyFiles.requireOwnerOnly(file, "the HTTP API token file ");
      String token = OwnerOnlyFiles.read(file);
      String problem = problem("the token in " + file, token);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
      return token;
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot read or create the HTTP API token file "
              + file
              + " ("
              + e.getMessage()
              + "); set anvil.http.token-file to a writable place, or"
              + " ANVIL_HTTP_TOKEN",
          e);
    }
  }

  /** The token a client uses: {@code ANVIL_HTTP_TOKEN}, else the token file when it exists. */
  public static String forClient(Path file) {
    String env = System.getenv("ANVIL_HTTP_TOKEN");
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    try {
      return Files.isReadable(file) ? OwnerOnlyFiles.read(file) : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static void create(Path file) throws IOException {
    Path folder = file.toAbsolutePath().getParent();
    OwnerOnlyFiles.createFolder(folder);
    String token = OwnerOnlyFiles.newSecret(32);
    Path temp = Files.createTempFile(folder, ".http-token", ".tmp", OwnerOnlyFiles.fileAttribute());
    try {
      Files.writeString(
          temp, token + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
      // Another node of this user may have created it meanwhile: then its token stands.
      Files.createLink(file, temp);
    } catch (FileAlreadyExistsException e) {
      // The other node's token is kept.
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
