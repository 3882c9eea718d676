package dev.anvil.runtime.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** Files only their owner may read: folders 0700, files 0600, created so from the start. */
final class Secrets {
  static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_FOLDER =
      PosixFilePermissions.fromString("rwx------");

  private Secrets() {}

  static void folder(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_FOLDER));
    }
    Files.setPosixFilePermissions(dir, OWNER_FOLDER);
  }

  /** Opens {@code file} for writing, created (or truncated) with mode 0600. */
  static OutputStream create(Path file) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_FILE));
    }
    Files.setPosixFilePermissions(file, OWNER_FILE);
    return Files.newOutputStream(file, StandardOpenOption.TRUNCATE_EXISTING);
  }

  static void writePem(Path file, String type, byte[] der) throws IOException {
    StringWriter text = new StringWriter();
    try (PemWriter pem = new PemWriter(text)) {
      pem.writeObject(new PemObject(type, der));
    }
    try (OutputStream out = create(file)) {
      out.write(text.toString().getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** A new random password, written to {@code file}. */
  static char[] newPassword(Path file) throws IOException {
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    try (OutputStream out = create(file)) {
      out.write((password + "\n").getBytes(StandardCharsets.US_ASCII));
    }
    return password.toCharArray();
  }

  static char[] readPassword(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.US_ASCII).trim().toCharArray();
  }
}
