package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A test CA and certificates it signed, made with the JDK's own {@code keytool} (nothing else to
 * install): PEM files as fhirwall reads them (certificate chain, PKCS#8 key, CA), and the JDK
 * {@link SSLContext} a test server uses. Valid for two days, EC P-256, {@code 127.0.0.1}/{@code localhost}.
 */
final class TestCertificates {
  static final String PASSWORD = "test-only";

  /** One signed identity: its PEM chain and key, and its PKCS#12 store. */
  record Identity(Path chain, Path key, Path store) {}

  final Path dir;
  final Path caPem;
  final Path caStore;

  private TestCertificates(Path dir) {
    this.dir = dir;
    this.caPem = dir.resolve("ca.pem");
    this.caStore = dir.resolve("ca.p12");
  }

  /** A new CA in {@code dir}. */
  static TestCertificates ca(Path dir, String name) throws Exception {
    TestCertificates c = new TestCertificates(dir);
    c.keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
        "-ext", "bc:c", "-validity", "2", "-keystore", c.caStore.toString(), "-storepass", PASSWORD, "-storetype", "PKCS12");
    c.keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", c.caStore.toString(), "-storepass", PASSWORD,
        "-file", c.caPem.toString());
    return c;
  }

  /** A server ({@code serverAuth}, for 127.0.0.1 and localhost) or client ({@code clientAuth}) identity the CA signs. */
  Identity issue(String name, boolean server) throws Exception {
    Path store = dir.resolve(name + ".p12");
    Path csr = dir.resolve(name + ".csr");
    Path crt = dir.resolve(name + ".crt");
    keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
        "-validity", "2", "-keystore", store.toString(), "-storepass", PASSWORD, "-storetype", "PKCS12");
    keytool("-certreq", "-alias", name, "-keystore", store.toString(), "-storepass", PASSWORD, "-file", csr.toString());
    List<String> gencert = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore", caStore.toString(),
        "-storepass", PASSWORD, "-infile", csr.toString(), "-outfile", crt.toString(), "-validity", "2"));
    if (server) {
      gencert.addAll(List.of("-ext", "san=ip:127.0.0.1,dns:localhost", "-ext", "eku=serverAuth"));
    } else {
      gencert.addAll(List.of("-ext", "eku=clientAuth"));
    }
    keytool(gencert.toArray(new String[0]));
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore", store.toString(),
        "-storepass", PASSWORD);
    keytool("-importcert", "-noprompt", "-alias", name, "-file", crt.toString(), "-keystore", store.toString(),
        "-storepass", PASSWORD);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, PASSWORD.toCharArray());
    }
    PrivateKey key = (PrivateKey) ks.getKey(name, PASSWORD.toCharArray());
    Path keyPem = dir.resolve(name + "-key.pem");
    Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()), US_ASCII);
    Path chainPem = dir.resolve(name + "-chain.pem");
    StringBuilder chain = new StringBuilder();
    for (Certificate c : ks.getCertificateChain(name)) {
      chain.append(pem("CERTIFICATE", c.getEncoded()));
    }
    Files.writeString(chainPem, chain.toString(), US_ASCII);
    return new Identity(chainPem, keyPem, store);
  }

  /** A JDK SSL context holding {@code identity} and trusting this CA. */
  SSLContext sslContext(Identity identity) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(identity.store())) {
      ks.load(in, PASSWORD.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASSWORD.toCharArray());
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private void keytool(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), US_ASCII);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + out);
    }
  }
}
