package dev.anvil.runtime.tls;

import dev.anvil.core.io.OwnerOnlyFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** The TLS folders' own file kinds: PEM and key-store passwords, owner-only files all. */
final class Secrets {
  private Secrets() {}

  static void writePem(Path file, String type, byte[] der) throws IOException {
    StringWriter text = new StringWriter();
    try (PemWriter pem = new PemWriter(text)) {
      pem.writeObject(new PemObject(type, der));
    }
    try (OutputStream out = OwnerOnlyFiles.create(file)) {
      out.write(text.toString().getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** A new random password, written to {@code file}. */
  static char[] newPassword(Path file) throws IOException {
    String password = OwnerOnlyFiles.newSecret(24);
    OwnerOnlyFiles.write(file, password);
    return password.toCharArray();
  }

  static char[] readPassword(Path file) throws IOException {
    String password = OwnerOnlyFiles.read(file);
    if (password == null) {
      throw new IOException("no password file " + file);
    }
    return password.toCharArray();
  }
}
