package dev.vitserve.core.http;

import static dev.vitserve.core.http.ProtocolErrorsTest.assertJsonError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.vitserve.core.testing.OpenSockets;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.core.testing.TestCertificate;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Every listener (API, management, gRPC; TLS or not) is built through {@link ListenerTransport} and
 * gets the same guard: connections counted from accept, before a TLS handshake or an HTTP/2 preface,
 * against one overall and one per-client bound, closed at the handshake deadline; Content-Length with
 * Transfer-Encoding refused; requests refused before routing in the access log. Each attack has a
 * normal request beside it, answered. Counts are small and on loopback; the only waits are upper
 * bounds far above what is expected.
 */
@ExtendWith(VertxExtension.class)
class EveryListenerTest {

    private static final String KEY = "admin-key-0123456789";
    /** HTTP/2's client preface and an empty SETTINGS frame, as a gRPC client opens a connection. */
    private static final byte[] PREFACE = Buffer.buffer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .appendBytes(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}).getBytes();

    private static HttpClient http2(Vertx vertx) {
        return vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false));
    }

    /** A ServerLive call (an empty message). */
    private static Future<HttpClientResponse> serverLive(HttpClient client, int port) {
        return client.request(HttpMethod.POST, port, "127.0.0.1", "/inference.GRPCInferenceService/ServerLive")
                .compose(request -> request.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
                        .send(Buffer.buffer().appendByte((byte) 0).appendInt(0)));
    }

    /** The grpc-status of an answer: in its headers when trailers-only, else in its trailers. */
    private static String grpcStatus(Future<HttpClientResponse> response) throws Exception {
        return response.compose(answer -> answer.getHeader("grpc-status") != null
                ? Future.succeededFuture(answer.getHeader("grpc-status"))
                : answer.end().map(v -> answer.getTrailer("grpc-status"))).await(30, TimeUnit.SECONDS);
    }

    /** Finding 5: the management listener had no connection bound. */
    @Test
    void aPortInUseIsNamedWithItsListenerAndTheFlagThatMovesIt(Vertx vertx) throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            for (String[] listener : new String[][] {{"--port", "API"}, {"--admin-port", "management"},
                {"--grpc-port", "gRPC"}}) {
                List<String> args = new ArrayList<>(List.of("--model", dev.vitserve.testkit.Fixtures.tinyVit().toString(),
                        "--backend", "fake", "--host", "127.0.0.1", "--admin-host", "127.0.0.1",
                        "--admin-api-key", KEY, "--warmup-inferences", "0"));
                for (String flag : List.of("--port", "--admin-port", "--grpc-port")) {
                    args.addAll(List.of(flag, flag.equals(listener[0]) ? String.valueOf(port) : "0"));
                }
                dev.vitserve.core.config.ServerConfig config = dev.vitserve.core.config.ServerConfig.fromArgs(
                        java.util.Map.of(), args.toArray(String[]::new));
                Throwable failure = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                        () -> dev.vitserve.core.VitServer.start(vertx, config).await(60, TimeUnit.SECONDS));
                String message = failure.getMessage();
                assertTrue(message.contains("the " + listener[1] + " listener cannot listen on 127.0.0.1:" + port)
                        && message.contains("already in use") && message.contains("another port with " + listener[0]),
                        message);
            }
        }
    }

    @Test
    void theManagementListenersConnectionsAreBoundedPerClientAndOverallWithTheOthers(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--admin-port", "0", "--admin-api-key", KEY,
                "--grpc-port", "0", "--max-connections", "200", "--max-connections-per-client", "100")) {
            int admin = server.server.adminPort();
            List<Socket> flood = new ArrayList<>();
            try {
                List<Socket> one = open(admin, "127.0.0.2", 300, null);
                flood.addAll(one);
                int fromOne = OpenSockets.stillOpen(one);
                System.out.printf("300 idle management connections from one address: %d left open (bound 100)%n", fromOne);
                assertTrue(fromOne <= 100, fromOne + " connections from one address left open");
                for (String from : List.of("127.0.0.3", "127.0.0.4", "127.0.0.5")) {
                    flood.addAll(open(admin, from, 100, null));
                }
                assertServed(vertx, server);
                int open = OpenSockets.stillOpen(flood);
                System.out.printf("600 idle management connections from 4 addresses: %d left open (bound 200)%n", open);
                assertTrue(open <= 200, open + " connections left open past the overall bound");
            } finally {
                closeAll(flood);
            }
        }
    }

    /** Finding 6: gRPC connections that never sent the HTTP/2 preface were not counted. */
    @Test
    void grpcConnectionsWithoutAPrefaceAreCountedFromAcceptAndClosedAtTheDeadline(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0",
                "--max-connections-per-client", "50")) {
            int grpc = server.server.grpcPort();
            List<Socket> silent = open(grpc, "127.0.0.2", 200, null);
            List<Socket> halfPreface = open(grpc, "127.0.0.3", 100, "PRI * HTTP/2.0\r\n".getBytes(StandardCharsets.US_ASCII));
            List<Socket> preface = open(grpc, "127.0.0.4", 5, PREFACE);
            try {
                int fromSilent = OpenSockets.stillOpen(silent);
                int fromHalf = OpenSockets.stillOpen(halfPreface);
                System.out.printf("gRPC connections without a preface: %d of 200 silent, %d of 100 with half a preface "
                        + "left open (bound 50 per client)%n", fromSilent, fromHalf);
                assertTrue(fromSilent <= 50, fromSilent + " silent connections from one address left open");
                assertTrue(fromHalf <= 50, fromHalf + " half-preface connections from one address left open");
                assertServed(vertx, server);

                long start = System.nanoTime();
                int left = fromSilent + fromHalf;
                while (left > 0 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(40)) {
                    Thread.sleep(500);
                    left = OpenSockets.stillOpen(silent) + OpenSockets.stillOpen(halfPreface);
                }
                System.out.printf("connections without a preface all closed %.1f s later (deadline %d s)%n",
                        (System.nanoTime() - start) / 1e9, ConnectionGuard.HANDSHAKE_DEADLINE.toSeconds());
                assertEquals(0, left, "connections without a preface still open 40 s later");
                assertEquals(5, OpenSockets.stillOpen(preface), "connections that sent their preface stay (idle until 120 s)");
                assertServed(vertx, server);
            } finally {
                closeAll(silent);
                closeAll(halfPreface);
                closeAll(preface);
            }
        }
    }

    /** Finding 7: TLS connections were counted only once their handshake was done. */
    @Test
    void tlsConnectionsAreCountedBeforeTheirHandshakeOnEveryListener(Vertx vertx, @TempDir Path folder) throws Exception {
        TestCertificate certificate = TestCertificate.create(folder, "listeners");
        Path cert = folder.resolve("tls.crt");
        Path key = folder.resolve("tls.key");
        certificate.installAt(cert, key);
        try (RunningServer server = RunningServer.start(vertx, "fake", "--tls-cert", cert.toString(),
                "--tls-key", key.toString(), "--admin-port", "0", "--admin-api-key", KEY, "--grpc-port", "0",
                "--max-connections", "150", "--max-connections-per-client", "50")) {
            WebClient https = WebClient.create(vertx, new WebClientOptions().setSsl(true).setVerifyHost(false)
                    .setTrustOptions(new PemTrustOptions().addCertPath(certificate.certificate().toString())));
            List<Socket> flood = new ArrayList<>();
            try {
                int[] ports = {server.port(), server.server.adminPort(), server.server.grpcPort()};
                String[] names = {"API", "management", "gRPC"};
                for (int i = 0; i < ports.length; i++) {
                    List<Socket> noHandshake = open(ports[i], "127.0.0." + (10 + i), 120, null);
                    flood.addAll(noHandshake);
                    int open = OpenSockets.stillOpen(noHandshake);
                    System.out.printf("120 TLS connections without a handshake to the %s listener from one address: "
                            + "%d left open (bound 50)%n", names[i], open);
                    assertTrue(open <= 50, open + " connections without a handshake from one address left open");
                }
                // 2 x 120 more from other addresses: past the overall bound the oldest of those in their handshake go
                flood.addAll(open(server.port(), "127.0.0.20", 40, null));
                flood.addAll(open(server.port(), "127.0.0.21", 40, null));
                flood.addAll(open(server.port(), "127.0.0.22", 40, null));
                HttpResponse<Buffer> live = https.get(server.port(), "127.0.0.1", "/health/ready").send()
                        .await(30, TimeUnit.SECONDS);
                assertEquals(200, live.statusCode(), "an HTTPS client beside connections that never handshake");
                HttpResponse<Buffer> models = https.get(server.server.adminPort(), "127.0.0.1", "/admin/models")
                        .putHeader("Authorization", "Bearer " + KEY).send().await(30, TimeUnit.SECONDS);
                assertEquals(200, models.statusCode(), models.bodyAsString());
                int open = OpenSockets.stillOpen(flood);
                System.out.printf("%d TLS connections without a handshake: %d left open (bound 150)%n", flood.size(), open);
                assertTrue(open <= 150, open + " connections left open past the overall bound");

                long start = System.nanoTime();
                while (open > 0 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(40)) {
                    Thread.sleep(500);
                    open = OpenSockets.stillOpen(flood);
                }
                System.out.printf("TLS connections without a handshake all closed %.1f s later (deadline %d s)%n",
                        (System.nanoTime() - start) / 1e9, ConnectionGuard.HANDSHAKE_DEADLINE.toSeconds());
                assertEquals(0, open, "connections without a handshake still open 40 s later");
                assertEquals(200, https.get(server.port(), "127.0.0.1", "/health/ready").send()
                        .await(30, TimeUnit.SECONDS).statusCode());
            } finally {
                closeAll(flood);
                https.close();
            }
        }
    }

    /** Finding 15: Content-Length with Transfer-Encoding was taken on the management and gRPC ports. */
    @Test
    void contentLengthWithChunkedIsRefusedOnTheManagementAndGrpcPortsAndNothingAfterItRuns(Vertx vertx)
            throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--admin-port", "0", "--admin-api-key", KEY,
                "--grpc-port", "0")) {
            String smuggledAdmin = "GET /admin/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY + "\r\n\r\n";
            String admin = exchange(server.server.adminPort(), "POST /admin/models HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    + smuggledAdmin);
            assertJsonError(admin, 400, "bad_request");
            assertEquals(1, count(admin, "HTTP/1.1 "), "one answer, the smuggled request not run: " + admin);

            String grpc = exchange(server.server.grpcPort(), "POST /inference.GRPCInferenceService/ServerLive HTTP/1.1\r\n"
                    + "Host: x\r\nContent-Type: application/grpc-web\r\nContent-Length: 5\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    + "POST /inference.GRPCInferenceService/ServerLive HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/grpc-web\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0");
            assertJsonError(grpc, 400, "bad_request");
            assertEquals(1, count(grpc, "HTTP/1.1 "), "one answer, the smuggled call not run: " + grpc);

            String chunkedIdentity = exchange(server.server.adminPort(), "POST /admin/models HTTP/1.1\r\nHost: x\r\n"
                    + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n");
            assertJsonError(chunkedIdentity, 400, "bad_request");
            assertServed(vertx, server);
        }
    }

    /** Requests refused before routing had no access line, on any listener; gRPC calls had none at all. */
    @Test
    void everyListenersAccessLogRecordsRequestsRefusedBeforeRouting(Vertx vertx) throws Exception {
        Logger access = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        access.addAppender(lines);
        try (RunningServer server = RunningServer.start(vertx, "fake", "--access-log", "--admin-port", "0",
                "--admin-api-key", KEY, "--grpc-port", "0")) {
            int[] ports = {server.port(), server.server.adminPort(), server.server.grpcPort()};
            String[] ids = {"refused-api", "refused-admin", "refused-grpc"};
            for (int i = 0; i < ports.length; i++) {
                String answer = exchange(ports[i], "POST /v1/classify HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + ids[i]
                        + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
                assertJsonError(answer, 400, "bad_request");
                assertTrue(answer.contains("X-Request-Id: " + ids[i]) || answer.contains("x-request-id: " + ids[i]), answer);
                String line = lineOf(lines, ids[i]);
                assertTrue(line.contains("\"POST /v1/classify HTTP/1.1\" 400 "), line);
            }
            String tooLong = exchange(server.server.adminPort(), "GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertJsonError(tooLong, 414, "uri_too_long");
            String id = header(tooLong, "X-Request-Id");
            assertTrue(lineOf(lines, id).contains(" 414 "), lineOf(lines, id));

            HttpClient client = http2(vertx);
            assertEquals("0", grpcStatus(serverLive(client, server.server.grpcPort())));
            client.close();
            String call = waitFor(lines, "/inference.GRPCInferenceService/ServerLive HTTP/2.0\" 200");
            assertTrue(call.startsWith("127.0.0.1 - - ["), call);
            assertEquals(200, server.get("/health/live").statusCode());
        } finally {
            access.detachAppender(lines);
        }
    }

    /** A REST request, a management request and a gRPC call from another client: each answered. */
    private static void assertServed(Vertx vertx, RunningServer server) throws Exception {
        assertEquals(200, server.get("/health/ready").statusCode(), "a REST request beside the attack");
        if (server.server.adminPort() >= 0) {
            WebClient admin = WebClient.create(vertx);
            try {
                assertEquals(200, admin.get(server.server.adminPort(), "127.0.0.1", "/admin/models")
                        .putHeader("Authorization", "Bearer " + KEY).send().await(30, TimeUnit.SECONDS).statusCode(),
                        "a management request beside the attack");
            } finally {
                admin.close();
            }
        }
        if (server.server.grpcPort() >= 0) {
            HttpClient client = http2(vertx);
            try {
                assertEquals("0", grpcStatus(serverLive(client, server.server.grpcPort())),
                        "a gRPC call beside the attack");
            } finally {
                client.close();
            }
        }
    }

    /** Opens connections from a loopback address, writing {@code first} on each when given, then waits a second. */
    private static List<Socket> open(int port, String from, int count, byte[] first) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Socket socket = new Socket();
            socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            try {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                if (first != null) {
                    socket.getOutputStream().write(first);
                }
            } catch (SocketException closedAtOnce) {
                // refused as it arrived: counted as closed below
            }
            sockets.add(socket);
        }
        Thread.sleep(1000);
        return sockets;
    }

    private static void closeAll(List<Socket> sockets) throws Exception {
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    /** Sends raw bytes and reads everything the server answers until it closes the connection (or 10 s pass). */
    private static String exchange(int port, String request) throws Exception {
        return ProtocolErrorsTest.exchange(port, request);
    }

    private static String header(String answer, String name) {
        for (String line : answer.split("\r\n")) {
            if (line.toLowerCase().startsWith(name.toLowerCase() + ":")) {
                return line.substring(name.length() + 1).trim();
            }
        }
        throw new AssertionError("no " + name + " in " + answer);
    }

    private static String lineOf(ListAppender<ILoggingEvent> lines, String requestId) throws InterruptedException {
        return waitFor(lines, "\"" + requestId + "\"");
    }

    /** The first access line containing the text, waiting for it a little (it is written when the answer ends). */
    private static String waitFor(ListAppender<ILoggingEvent> lines, String part) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            synchronized (lines) {
                for (ILoggingEvent event : List.copyOf(lines.list)) {
                    if (event.getFormattedMessage().contains(part)) {
                        return event.getFormattedMessage();
                    }
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no access line with " + part + " in " + lines.list.stream()
                .map(ILoggingEvent::getFormattedMessage).collect(Collectors.joining("\n")));
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
