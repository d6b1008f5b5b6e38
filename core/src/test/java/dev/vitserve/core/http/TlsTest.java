package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.core.testing.TestCertificate;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import io.vertx.junit5.VertxExtension;

/**
 * --tls-cert/--tls-key: HTTPS with HTTP/2 through ALPN and HTTP/1.1, and a renewed certificate
 * served to new connections while a connection opened before goes on working.
 */
@ExtendWith(VertxExtension.class)
class TlsTest {

    /** A TLS socket that takes any certificate, so the test can see which one the server shows. */
    private static SSLSocket open(int port) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override public void checkClientTrusted(X509Certificate[] chain, String type) { }
            @Override public void checkServerTrusted(X509Certificate[] chain, String type) { }
            @Override public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        socket.startHandshake();
        return socket;
    }

    private static String subject(SSLSocket socket) throws Exception {
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }

    /** Sends GET /health/live on the keep-alive connection and returns the status line. */
    private static String live(SSLSocket socket, BufferedReader in) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String status = in.readLine();
        int length = 0;
        for (String header = in.readLine(); !header.isEmpty(); header = in.readLine()) {
            if (header.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(header.substring(15).trim());
            }
        }
        in.skip(length);
        return status;
    }

    @Test
    void servesHttp2AndHttp1OverTlsAndReloadsARenewedCertificateWithoutDroppingConnections(Vertx vertx,
            @TempDir Path folder) throws Exception {
        TestCertificate first = TestCertificate.create(folder, "first");
        Path cert = folder.resolve("tls.crt");
        Path key = folder.resolve("tls.key");
        first.installAt(cert, key);
        try (RunningServer server = RunningServer.start(vertx, "fake", "--tls-cert", cert.toString(),
                "--tls-key", key.toString())) {
            WebClient h2 = WebClient.create(vertx, new WebClientOptions().setSsl(true).setUseAlpn(true)
                    .setProtocolVersion(HttpVersion.HTTP_2).setTrustOptions(new PemTrustOptions()
                            .addCertPath(first.certificate().toString())).setVerifyHost(false));
            HttpResponse<Buffer> classified = h2.post(server.port(), "127.0.0.1", "/v1/classify")
                    .putHeader("Content-Type", "image/png")
                    .sendBuffer(Buffer.buffer(Fixtures.bytes(Fixtures.image("green-palette.png"))))
                    .await(30, TimeUnit.SECONDS);
            assertEquals(200, classified.statusCode(), classified.bodyAsString());
            assertEquals(HttpVersion.HTTP_2, classified.version(), "HTTP/2 through ALPN");
            h2.close();

            SSLSocket before = open(server.port());
            BufferedReader beforeIn = new BufferedReader(new InputStreamReader(before.getInputStream(), StandardCharsets.ISO_8859_1));
            assertEquals("CN=first", subject(before));
            assertEquals("HTTP/1.1 200 OK", live(before, beforeIn), "HTTP/1.1 over TLS without ALPN");

            assertFalse(server.server.reloadTls().await(30, TimeUnit.SECONDS), "unchanged files: nothing to reload");
            TestCertificate.create(folder, "second").installAt(cert, key);
            assertTrue(server.server.reloadTls().await(30, TimeUnit.SECONDS), "what SIGHUP does");
            try (SSLSocket after = open(server.port())) {
                assertEquals("CN=second", subject(after), "a new connection gets the renewed certificate");
            }
            assertEquals("HTTP/1.1 200 OK", live(before, beforeIn), "the connection opened before still works");

            TestCertificate.create(folder, "third").installAt(cert, key);
            String seen = "";
            for (int i = 0; i < 100 && !seen.equals("CN=third"); i++) {
                Thread.sleep(200);
                try (SSLSocket socket = open(server.port())) {
                    seen = subject(socket);
                }
            }
            assertEquals("CN=third", seen, "a changed file is picked up without a signal within about 5 s");
            assertEquals("HTTP/1.1 200 OK", live(before, beforeIn));
            before.close();
        }
    }

    @Test
    void plainHttpOnTheTlsPortGetsA400SayingToUseHttpsAndTlsStillServes(Vertx vertx, @TempDir Path folder)
            throws Exception {
        TestCertificate certificate = TestCertificate.create(folder, "plain");
        Path cert = folder.resolve("tls.crt");
        Path key = folder.resolve("tls.key");
        certificate.installAt(cert, key);
        try (RunningServer server = RunningServer.start(vertx, "fake", "--tls-cert", cert.toString(),
                "--tls-key", key.toString(), "--admin-port", "0", "--admin-api-key", "admin-key-0123456789")) {
            for (int port : new int[] {server.port(), server.server.adminPort()}) {
                try (java.net.Socket plain = new java.net.Socket("127.0.0.1", port)) {
                    plain.setSoTimeout(10_000);
                    plain.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    String answer = new String(plain.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer);
                    assertTrue(answer.contains("\"code\":\"https_required\"") && answer.contains("use https://"),
                            answer);
                }
            }
            SSLSocket tls = open(server.port());
            assertEquals("HTTP/1.1 200 OK", live(tls, new BufferedReader(new InputStreamReader(tls.getInputStream(),
                    StandardCharsets.ISO_8859_1))), "TLS clients are served as before");
            tls.close();
        }
    }

    @Test
    void aMissingCertificateFileStopsStartUpSayingWhich(Vertx vertx, @TempDir Path folder) {
        Exception failure = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> RunningServer.start(vertx,
                "fake", "--tls-cert", folder.resolve("none.crt").toString(), "--tls-key", folder.resolve("none.key").toString()));
        assertTrue(String.valueOf(failure.getMessage()).contains("--tls-cert " + folder.resolve("none.crt") + ": no such file"),
                String.valueOf(failure.getMessage()));
    }
}
