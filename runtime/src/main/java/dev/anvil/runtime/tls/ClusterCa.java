package dev.anvil.runtime.tls;

import dev.anvil.core.io.OwnerOnlyFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A cluster's certificate authority: the one root every member's certificate must chain to. Keys
 * are RSA 3072 (Pekko's PEM provider for rotating certificates reads RSA only), signatures SHA-256.
 * Every member certificate carries the DNS name {@value #CLUSTER_NAME}, the subject name the PEM
 * provider requires members to share, besides its own names.
 *
 * <p>Files of a CA folder: {@code ca.p12} (its key and certificate), {@code ca.crt} (PEM) and
 * {@code password}, all mode 0600 in a 0700 folder.
 */
public final class ClusterCa {
  public static final String CLUSTER_NAME = "anvil-cluster";
  static final String KEY_ALGORITHM = "RSA";
  static final int KEY_BITS = 3072;
  private static final String SIGNATURE = "SHA256withRSA";

  private final PrivateKey key;
  private final X509Certificate certificate;

  private ClusterCa(PrivateKey key, X509Certificate certificate) {
    this.key = key;
    this.certificate = certificate;
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** The CA's key and certificate as a member's: a self-signed member, which others refuse. */
  MemberCredentials asSelfSignedMember() {
    return new MemberCredentials(key, certificate, certificate);
  }

  /** A new CA named {@code name}, valid from now for {@code validity}. */
  public static ClusterCa create(String name, Duration validity) {
    KeyPair pair = newKeyPair();
    Instant now = Instant.now();
    X500Name subject = new X500Name("CN=" + name + " CA, O=Anvil");
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  subject,
                  serial(),
                  Date.from(now.minus(Duration.ofMinutes(5))),
                  Date.from(now.plus(validity)),
                  subject,
                  pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new ClusterCa(pair.getPrivate(), sign(b, pair.getPrivate()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a certificate authority: " + e, e);
    }
  }

  /**
   * A member certificate for {@code name} with these addresses and DNS names, valid from {@code
   * notBefore} to {@code notAfter} (a past window makes an expired one, for tests).
   */
  public MemberCredentials issue(
      String name, List<String> ips, List<String> dnsNames, Instant notBefore, Instant notAfter) {
    KeyPair pair = newKeyPair();
    List<GeneralName> names = new ArrayList<>();
    names.add(new GeneralName(GeneralName.dNSName, CLUSTER_NAME));
    for (String dns : dnsNames) {
      names.add(new GeneralName(GeneralName.dNSName, dns));
    }
    for (String ip : ips) {
      names.add(new GeneralName(GeneralName.iPAddress, literalAddress(ip)));
    }
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  certificate,
                  serial(),
                  Date.from(notBefore),
                  Date.from(notAfter),
                  new X500Name("CN=" + name + ", O=Anvil"),
                  pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }))
              .addExtension(
                  Extension.subjectAlternativeName,
                  false,
                  new GeneralNames(names.toArray(GeneralName[]::new)))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(certificate))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new MemberCredentials(pair.getPrivate(), sign(b, key), certificate);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue a certificate for " + name + ": " + e, e);
    }
  }

  /** A member certificate valid from now for {@code validity}. */
  public MemberCredentials issue(
      String name, List<String> ips, List<String> dnsNames, Duration validity) {
    Instant now = Instant.now();
    return issue(name, ips, dnsNames, now.minus(Duration.ofMinutes(5)), now.plus(validity));
  }

  /** Writes the CA's files into {@code dir} (created 0700; files 0600). */
  public void save(Path dir) {
    try {
      OwnerOnlyFiles.folder(dir);
      char[] password = Secrets.newPassword(dir.resolve("password"));
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("ca", key, password, new Certificate[] {certificate});
      try (OutputStream out = OwnerOnlyFiles.create(dir.resolve("ca.p12"))) {
        ks.store(out, password);
      }
      Secrets.writePem(dir.resolve("ca.crt"), "CERTIFICATE", certificate.getEncoded());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot write the CA to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The CA saved in {@code dir}. */
  public static ClusterCa load(Path dir) {
    Path file = dir.resolve("ca.p12");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          dir + " holds no ca.p12: not a CA folder (anvil certs" + " init --dir DIR makes one)");
    }
    try (InputStream in = Files.newInputStream(file)) {
      char[] password = Secrets.readPassword(dir.resolve("password"));
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      return new ClusterCa(
          (PrivateKey) ks.getKey("ca", password), (X509Certificate) ks.getCertificate("ca"));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the CA in " + dir + ": " + e.getMessage(), e);
    }
  }

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance(KEY_ALGORITHM);
      g.initialize(KEY_BITS, new SecureRandom());
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no " + KEY_ALGORITHM + " key generator", e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(127, new SecureRandom());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      ContentSigner s = new JcaContentSignerBuilder(SIGNATURE).build(signer);
      X509CertificateHolder holder = b.build(s);
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** An IP address given as a literal; a host name is refused (no lookup happens). */
  private static String literalAddress(String ip) {
    if (!ip.matches("[0-9.]+|[0-9a-fA-F:]+")) {
      throw new IllegalArgumentException(
          "--ip " + ip + ": not an IP address (names go to" + " --dns)");
    }
    try {
      return InetAddress.getByName(ip).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--ip " + ip + ": not an IP address", e);
    }
  }
}
