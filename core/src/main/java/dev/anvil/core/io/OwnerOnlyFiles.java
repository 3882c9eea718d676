package dev.anvil.core.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * Files only their owner may read (0600, in 0700 folders), created so from the start: the secrets
 * of a node (API token, database passwords, TLS keys), and the check that refuses one others could
 * read.
 */
public final class OwnerOnlyFiles {
  /** rw------- */
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private static final Set<PosixFilePermission> FOLDER =
      PosixFilePermissions.fromString("rwx------");

  private OwnerOnlyFiles() {}

  /** The attribute that creates a file 0600. */
  public static FileAttribute<Set<PosixFilePermission>> fileAttribute() {
    return PosixFilePermissions.asFileAttribute(FILE);
  }

  /** Creates {@code dir} (and its parents) 0700 when missing. */
  public static void createFolder(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(FOLDER));
    }
  }

  /** Creates {@code dir} 0700 when missing, and makes it 0700 when it exists. */
  public static void folder(Path dir) throws IOException {
    createFolder(dir);
    Files.setPosixFilePermissions(dir, FOLDER);
  }

  /** Opens {@code file} for writing, created (or truncated) with mode 0600. */
  public static OutputStream create(Path file) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile(file, fileAttribute());
    }
    Files.setPosixFilePermissions(file, FILE);
    return Files.newOutputStream(file, StandardOpenOption.TRUNCATE_EXISTING);
  }

  /** Writes {@code secret} and a newline to {@code file}, mode 0600. */
  public static void write(Path file, String secret) throws IOException {
    try (OutputStream out = create(file)) {
      out.write((secret + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The trimmed content of {@code file}, or null when there is no such file. */
  public static String read(Path file) throws IOException {
    return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : null;
  }

  /** {@code bytes} random bytes from {@link SecureRandom}, base64url without padding. */
  public static String newSecret(int bytes) {
    byte[] random = new byte[bytes];
    new SecureRandom().nextBytes(random);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  /**
   * Refuses {@code file} when others may read it: whoever reads a secret has its rights. {@code
   * what} names it in the message (e.g. "the HTTP API token file ").
   */
  public static void requireOwnerOnly(Path file, String what) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    if (!FILE.containsAll(perms)) {
      throw new IllegalArgumentException(
          what
              + file
              + " can be read by others ("
              + PosixFilePermissions.toString(perms)
              + "): chmod 600 it");
    }
  }
}
