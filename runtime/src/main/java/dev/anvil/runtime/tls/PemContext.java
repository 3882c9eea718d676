package dev.anvil.runtime.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLSv1.3 context from the PEM files of Pekko's rotating-keys provider ({@code tls.key}, PKCS#8
 * RSA; {@code tls.crt}; {@code ca.crt}, the only trusted root), as a Kubernetes secret mounts them:
 * for the data plane of a node whose Artery reads its certificates that way. Read once, at start (a
 * rotated secret reaches the data plane when the node restarts).
 */
public final class PemContext {
  private PemContext() {}

  public static SSLContext of(Path folder) {
    try {
      byte[] key = der(folder.resolve("tls.key"), "PRIVATE KEY").get(0);
      PrivateKey privateKey =
          KeyFactory.getInstance(ClusterCa.KEY_ALGORITHM)
              .generatePrivate(new PKCS8EncodedKeySpec(key));
      return context(
          privateKey,
          certificates(folder.resolve("tls.crt")),
          certificates(folder.resolve("ca.crt")));
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot read the PEM files tls.key, tls.crt and ca.crt in "
              + folder
              + " (pekko.remote.artery.ssl.rotating-keys-engine.secret-mount-point): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * A TLSv1.3 context presenting {@code key} with {@code chain} (then {@code roots}), trusting only
   * {@code roots}.
   */
  public static SSLContext context(PrivateKey key, List<Certificate> chain, List<Certificate> roots)
      throws IOException, GeneralSecurityException {
    List<Certificate> presented = new ArrayList<>(chain);
    presented.addAll(roots);
    char[] password = new char[0];
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("member", key, password, presented.toArray(Certificate[]::new));
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    for (int i = 0; i < roots.size(); i++) {
      trust.setCertificateEntry("ca-" + i, roots.get(i));
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  private static List<Certificate> certificates(Path file)
      throws IOException, GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    try (InputStream in = Files.newInputStream(file)) {
      return new ArrayList<>(factory.generateCertificates(in));
    }
  }

  /** The DER bytes of every {@code type} block of a PEM file. */
  private static List<byte[]> der(Path file, String type) throws IOException {
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    String text = Files.readString(file);
    List<byte[]> out = new ArrayList<>();
    for (int at = text.indexOf(begin); at >= 0; at = text.indexOf(begin, at + 1)) {
      int stop = text.indexOf(end, at);
      if (stop < 0) {
        break;
      }
      out.add(Base64.getMimeDecoder().decode(text.substring(at + begin.length(), stop)));
    }
    if (out.isEmpty()) {
      throw new IOException(file.getFileName() + " holds no " + type);
    }
    return out;
  }
}
