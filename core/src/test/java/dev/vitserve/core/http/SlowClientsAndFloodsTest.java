package dev.vitserve.core.http;

import static dev.vitserve.core.http.ProtocolErrorsTest.assertJsonError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vitserve.core.testing.OpenSockets;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Clients that send slowly or open many connections cannot keep others out: a slow body holds no
 * request slot and is cut off at its deadline; connections are bounded per client and overall,
 * the idle ones making room for new clients. Timings are generous for a busy 2-core machine: what
 * is asserted is that the normal request is served at all, and each slow one answered.
 */
@ExtendWith(VertxExtension.class)
class SlowClientsAndFloodsTest {

    @Test
    void sixtyFourSlowBodiesDoNotStarveANormalRequestAndAreCutOffAtTheirDeadline(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-requests", "4", "--body-timeout-ms", "4000")) {
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 64; i++) {
                    Socket socket = new Socket("127.0.0.1", server.port());
                    socket.getOutputStream().write(("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                            + "Content-Length: 1000\r\n\r\nx").getBytes(StandardCharsets.US_ASCII));
                    slow.add(socket);
                }
                long start = System.nanoTime();
                for (int second = 0; second < 2; second++) {
                    Thread.sleep(1000);
                    for (Socket socket : slow) {
                        socket.getOutputStream().write('x');
                    }
                }
                // all 64 are still sending: a normal request is served beside them
                byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
                assertEquals(200, server.postImage("/v1/classify", png, "image/png").statusCode(),
                        "a normal request beside 64 slow bodies and 4 request slots");
                for (Socket socket : slow) {
                    socket.setSoTimeout(30_000);
                    assertJsonError(readUntilClosed(socket), 408, "body_timeout");
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("64 slow bodies answered 408 and closed %.1f s after they began (deadline 4 s)%n", seconds);
                assertTrue(seconds < 40, "cut off near their deadline: " + seconds + " s");
            } finally {
                for (Socket socket : slow) {
                    socket.close();
                }
            }
        }
    }

    @Test
    void bodiesStillArrivingAreBoundedInNumberAndInTheBytesTheyDeclare(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-receiving", "4",
                "--max-body-size", "1MB", "--max-receiving-size", "1MB")) {
            List<Socket> slow = new ArrayList<>();
            try {
                slow.add(startBody(server, 600_000));
                // 600 KB declared of 1 MB: another 600 KB would pass the bytes bound
                assertJsonError(ProtocolErrorsTest.exchange(server, "POST /v1/classify HTTP/1.1\r\nHost: x\r\n"
                        + "Connection: close\r\nContent-Type: image/png\r\nContent-Length: 600000\r\n\r\n" + "x".repeat(600_000)),
                        503, "overloaded");
                for (int i = 0; i < 3; i++) {
                    slow.add(startBody(server, 1000));
                }
                // four bodies arriving: a fifth is refused at once, whatever its size
                assertJsonError(ProtocolErrorsTest.exchange(server, "POST /v1/classify HTTP/1.1\r\nHost: x\r\n"
                        + "Connection: close\r\nContent-Type: image/png\r\nContent-Length: 10\r\n\r\n0123456789"), 503, "overloaded");
                slow.forEach(SlowClientsAndFloodsTest::closeQuietly);
                slow.clear();
                byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
                for (int i = 0; i < 50; i++) {
                    var response = server.postImage("/v1/classify", png, "image/png");
                    if (response.statusCode() == 200) {
                        return; // the bounds are given back as the slow clients leave
                    }
                    Thread.sleep(100);
                }
                throw new AssertionError("the receiving bounds were not given back");
            } finally {
                slow.forEach(SlowClientsAndFloodsTest::closeQuietly);
            }
        }
    }

    private static Socket startBody(RunningServer server, int length) throws Exception {
        Socket socket = new Socket("127.0.0.1", server.port());
        socket.getOutputStream().write(("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                + "Content-Length: " + length + "\r\n\r\nx").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        Thread.sleep(100);
        return socket;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (java.io.IOException e) {
            // already closed
        }
    }

    @Test
    void aFloodOfIdleConnectionsFromOneClientIsClosedAndOthersAreServed(Vertx vertx) throws Exception {
        assumeDescriptors(2 * 2000 + 1000);
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-connections-per-client", "100")) {
            List<Socket> flood = openIdle(server, "127.0.0.2", 2000);
            try {
                assertEquals(200, server.get("/health/ready").statusCode(), "another client beside 2000 idle connections");
                int open = OpenSockets.stillOpen(flood);
                System.out.printf("2000 idle connections from one address: %d left open (bound 100)%n", open);
                assertTrue(open <= 100, open + " connections from one address left open");
            } finally {
                closeAll(flood);
            }
        }
    }

    @Test
    void pastTheConnectionBoundIdleConnectionsMakeRoomForNewClients(Vertx vertx) throws Exception {
        assumeDescriptors(2 * 3000 + 1000);
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-connections", "300",
                "--max-connections-per-client", "100000")) {
            List<Socket> flood = openIdle(server, "127.0.0.3", 3000);
            try {
                for (int i = 0; i < 5; i++) {
                    assertEquals(200, server.get("/health/ready").statusCode(), "a client beside 3000 idle connections");
                }
                int open = OpenSockets.stillOpen(flood);
                System.out.printf("3000 idle connections: %d left open (bound 300)%n", open);
                assertTrue(open <= 300, open + " idle connections left open");
            } finally {
                closeAll(flood);
            }
        }
    }

    @Test
    void underPressureIdleConnectionsAreClosedWithinSeconds(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-connections", "40")) {
            // 35 of 40: past three quarters of the bound, idle connections get 5 s instead of 120
            long start = System.nanoTime();
            List<Socket> idle = openIdle(server, "127.0.0.4", 35);
            try {
                int open = OpenSockets.stillOpen(idle);
                while (open > 0 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30)) {
                    Thread.sleep(500);
                    open = OpenSockets.stillOpen(idle);
                }
                System.out.printf("35 idle connections at a bound of 40: all closed after %.1f s (5 s under pressure)%n",
                        (System.nanoTime() - start) / 1e9);
                assertEquals(0, open, "idle connections still open 30 s into pressure");
                assertEquals(200, server.get("/health/ready").statusCode());
            } finally {
                closeAll(idle);
            }
        }
    }

    /** Skips where this process may not open that many descriptors; raises no limit. */
    private static void assumeDescriptors(long needed) {
        long limit = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount() : 0;
        assumeTrue(limit >= needed, "needs " + needed + " file descriptors, the limit (ulimit -n) is " + limit);
    }

    private static List<Socket> openIdle(RunningServer server, String from, int count) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Socket socket = new Socket();
            socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
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

    private static String readUntilClosed(Socket socket) throws Exception {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) {
                answer.write(buffer, 0, n);
            }
        } catch (SocketException reset) {
            // the answer read so far stands
        }
        return answer.toString(StandardCharsets.ISO_8859_1);
    }
}
