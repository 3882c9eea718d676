package dev.anvil.runtime.tls;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.anvil.core.io.OwnerOnlyFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A member's TLS folder ({@code anvil.tls.directory}, written by {@code anvil certs issue} or a
 * local cluster's launcher) turned into Pekko's settings: Artery over {@code tls-tcp}, TLSv1.3,
 * mutual authentication, this member's key store and the cluster CA as the only trusted root. A
 * folder with missing files, files others may read, or an expired certificate is refused before the
 * actor system starts, naming the file.
 */
public final class TlsFiles {
  static final String KEY_STORE = "node.p12";
  static final String TRUST_STORE = "trust.p12";
  static final String PASSWORD = "password";
  private static final String SSL = "pekko.remote.artery.ssl.config-ssl-engine.";

  private TlsFiles() {}

  /**
   * {@code config} with Artery's TLS settings for the folder {@code anvil.tls.directory}; as it is
   * when that is empty.
   */
  public static Config apply(Config config) {
    String dir = config.getString("anvil.tls.directory");
    if (dir.isEmpty()) {
      return config;
    }
    Path folder = Path.of(dir);
    String password = check(folder);
    return ConfigFactory.parseMap(
            Map.of(
                "pekko.remote.artery.transport",
                "tls-tcp",
                "pekko.remote.artery.ssl.ssl-engine-provider",
                "org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider",
                SSL + "key-store",
                folder.resolve(KEY_STORE).toAbsolutePath().toString(),
                SSL + "trust-store",
                folder.resolve(TRUST_STORE).toAbsolutePath().toString(),
                SSL + "key-store-password",
                password,
                SSL + "key-password",
                password,
                SSL + "trust-store-password",
                password,
                SSL + "protocol",
                "TLSv1.3",
                SSL + "enabled-algorithms",
                ConfigValueFactory.fromIterable(
                    List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384")),
                SSL + "require-mutual-authentication",
                true))
        .withFallback(config);
  }

  /** A member folder's password and its loaded key store. */
  private record Loaded(String password, KeyStore keys) {}

  /** Checks the folder's files; returns the stores' password. */
  static String check(Path folder) {
    return load(folder).password();
  }

  /**
   * Reads the folder once its files are there and only their owner's; refuses an expired
   * certificate.
   */
  private static Loaded load(Path folder) {
    for (String name : List.of(KEY_STORE, TRUST_STORE, PASSWORD)) {
      Path f = folder.resolve(name);
      if (!Files.isRegularFile(f)) {
        throw new IllegalArgumentException(
            "anvil.tls.directory = "
                + folder
                + " has no "
                + name
                + " (anvil certs issue writes a member's folder)");
      }
      try {
        OwnerOnlyFiles.requireOwnerOnly(f, "");
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + f + ": " + e.getMessage(), e);
      }
    }
    try (InputStream in = Files.newInputStream(folder.resolve(KEY_STORE))) {
      char[] password = Secrets.readPassword(folder.resolve(PASSWORD));
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      X509Certificate own = (X509Certificate) ks.getCertificate("member");
      if (own == null) {
        throw new IllegalArgumentException(folder.resolve(KEY_STORE) + " holds no member key");
      }
      if (own.getNotAfter().toInstant().isBefore(Instant.now())) {
        throw new IllegalArgumentException(
            "the certificate in "
                + folder.resolve(KEY_STORE)
                + " expired on "
                + own.getNotAfter().toInstant()
                + ": issue a new one (anvil certs"
                + " issue)");
      }
      return new Loaded(new String(password), ks);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read " + folder.resolve(KEY_STORE) + ": " + e.getMessage(), e);
    }
  }

  /**
   * A TLSv1.3 context with the folder's key (for a server) and its CA as the only trusted root: for
   * the HTTP API's HTTPS and for clients of it.
   */
  public static javax.net.ssl.SSLContext sslContext(Path folder) {
    Loaded member = load(folder);
    char[] password = member.password().toCharArray();
    try (InputStream trust = Files.newInputStream(folder.resolve(TRUST_STORE))) {
      KeyStore ts = KeyStore.getInstance("PKCS12");
      ts.load(trust, password);
      javax.net.ssl.KeyManagerFactory kmf =
          javax.net.ssl.KeyManagerFactory.getInstance(
              javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(member.keys(), password);
      javax.net.ssl.TrustManagerFactory tmf =
          javax.net.ssl.TrustManagerFactory.getInstance(
              javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ts);
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
      context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read the TLS folder " + folder + ": " + e.getMessage(), e);
    }
  }

  /** Whether {@code config} runs Artery over TLS. */
  public static boolean enabled(Config config) {
    return config.getString("pekko.remote.artery.transport").equals("tls-tcp");
  }
}
