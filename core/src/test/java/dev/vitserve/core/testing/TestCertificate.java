package dev.vitserve.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A self-signed certificate for 127.0.0.1 and localhost made by the JDK's keytool, written as PEM files. */
public record TestCertificate(Path certificate, Path key, X509Certificate x509) {

    /** Makes a new key pair and certificate named {@code CN=name} into {@code folder}/name.{crt,key}. */
    public static TestCertificate create(Path folder, String name) throws Exception {
        Path store = folder.resolve(name + ".p12");
        Files.deleteIfExists(store);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process process = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=" + name, "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit"))
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keyStore.load(in, "changeit".toCharArray());
        }
        PrivateKey key = (PrivateKey) keyStore.getKey("server", "changeit".toCharArray());
        Certificate certificate = keyStore.getCertificate("server");
        Path certFile = folder.resolve(name + ".crt");
        Path keyFile = folder.resolve(name + ".key");
        Files.writeString(certFile, pem("CERTIFICATE", certificate.getEncoded()));
        Files.writeString(keyFile, pem("PRIVATE KEY", key.getEncoded()));
        return new TestCertificate(certFile, keyFile, (X509Certificate) certificate);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** Copies this certificate's files over {@code certificate} and {@code key} (a renewal in place). */
    public void installAt(Path certificateTarget, Path keyTarget) throws IOException {
        Files.copy(key, keyTarget, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(certificate, certificateTarget, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
