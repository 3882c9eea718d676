package dev.anvil.runtime.tls;

import dev.anvil.core.io.OwnerOnlyFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

/**
 * A member's key and certificate with the CA it trusts, as the files a node or client reads ({@link
 * TlsFiles}): {@code node.p12} (key and chain) and {@code trust.p12} (the CA) for Pekko's keystore
 * provider, with their {@code password}; {@code tls.key} (PKCS#8), {@code tls.crt} and {@code
 * ca.crt} (PEM) for its rotating-keys provider. All 0600 in a 0700 folder.
 */
public record MemberCredentials(PrivateKey key, X509Certificate certificate, X509Certificate ca) {

  /** Writes the files into {@code dir}. */
  public void save(Path dir) {
    try {
      OwnerOnlyFiles.folder(dir);
      char[] password = Secrets.newPassword(dir.resolve(TlsFiles.PASSWORD));
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      Certificate[] chain =
          certificate.equals(ca)
              ? new Certificate[] {certificate}
              : new Certificate[] {certificate, ca};
      keys.setKeyEntry("member", key, password, chain);
      try (OutputStream out = OwnerOnlyFiles.create(dir.resolve(TlsFiles.KEY_STORE))) {
        keys.store(out, password);
      }
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca);
      try (OutputStream out = OwnerOnlyFiles.create(dir.resolve(TlsFiles.TRUST_STORE))) {
        trust.store(out, password);
      }
      Secrets.writePem(dir.resolve("tls.key"), "PRIVATE KEY", key.getEncoded());
      Secrets.writePem(dir.resolve("tls.crt"), "CERTIFICATE", certificate.getEncoded());
      Secrets.writePem(dir.resolve("ca.crt"), "CERTIFICATE", ca.getEncoded());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(
          "cannot write credentials to " + dir + ": " + e.getMessage(), e);
    }
  }
}
