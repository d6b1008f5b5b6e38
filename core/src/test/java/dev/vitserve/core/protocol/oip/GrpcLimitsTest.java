package dev.vitserve.core.protocol.oip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.OpenSockets;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * gRPC clients that send slowly or open many connections cannot keep others out: a call whose
 * message is still arriving holds no request slot (REST and gRPC requests are served beside it),
 * the calls receiving are bounded by {@code --max-receiving} (RESOURCE_EXHAUSTED past it) and cut
 * off at {@code --body-timeout-ms} (DEADLINE_EXCEEDED), and the gRPC listener's connections count
 * against {@code --max-connections-per-client} as the API's do.
 */
@ExtendWith(VertxExtension.class)
class GrpcLimitsTest {

    static final String INFER = "/inference.GRPCInferenceService/ModelInfer";
    static final byte[] PREFACE = Buffer.buffer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .appendBytes(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}).getBytes();

    /** A ModelInfer call that sends the 5-byte prefix of a 1000-byte message and 10 bytes of it, then stalls. */
    static Future<HttpClientRequest> stalledCall(HttpClient client, int port) {
        return client.request(HttpMethod.POST, port, "127.0.0.1", INFER).compose(request -> {
            request.putHeader("content-type", "application/grpc").putHeader("te", "trailers").setChunked(true);
            Buffer start = Buffer.buffer().appendByte((byte) 0).appendInt(1000).appendBytes(new byte[10]);
            return request.write(start).map(request);
        });
    }

    static List<HttpClientRequest> stalledCalls(HttpClient client, int port, int count) throws Exception {
        List<HttpClientRequest> stalled = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            stalled.add(stalledCall(client, port).await(30, TimeUnit.SECONDS));
        }
        return stalled;
    }

    /** The grpc-status of an answer: in its headers when trailers-only, else in its trailers. */
    static String grpcStatus(Future<HttpClientResponse> response) throws Exception {
        return response.compose(answer -> answer.getHeader("grpc-status") != null
                ? Future.succeededFuture(answer.getHeader("grpc-status"))
                : answer.end().map(v -> answer.getTrailer("grpc-status"))).await(30, TimeUnit.SECONDS);
    }

    static HttpClient http2(Vertx vertx) {
        return vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false).setHttp2MultiplexingLimit(100));
    }

    @Test
    void callsStillSendingHoldNoSlotAndAreCutOffAtTheirDeadline(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0", "--max-requests", "2",
                "--body-timeout-ms", "3000")) {
            HttpClient client = http2(vertx);
            List<HttpClientRequest> stalled = stalledCalls(client, server.server.grpcPort(), 8);
            long start = System.nanoTime();
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            assertEquals(200, server.postImage("/v1/classify", png, "image/png").statusCode(),
                    "a REST request beside 8 gRPC calls still sending, with 2 request slots");
            assertEquals("0", grpcStatus(serverLive(client, server.server.grpcPort())),
                    "a gRPC call beside them is answered");
            for (HttpClientRequest request : stalled) {
                assertEquals("4", grpcStatus(request.response()),
                        "a stalled call is DEADLINE_EXCEEDED");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("8 stalled gRPC calls answered DEADLINE_EXCEEDED %.1f s after they began (deadline 3 s)%n",
                    seconds);
            assertTrue(seconds < 30, "cut off near their deadline: " + seconds + " s");
            assertEquals(200, server.postImage("/v1/classify", png, "image/png").statusCode(), "served on after");
            client.close();
        }
    }

    @Test
    void callsReceivingAreBoundedAndThoseOverTheBoundAreRefusedAtOnce(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0", "--max-receiving", "3",
                "--body-timeout-ms", "20000")) {
            HttpClient client = http2(vertx);
            List<HttpClientRequest> stalled = stalledCalls(client, server.server.grpcPort(), 3);
            Thread.sleep(500);
            HttpClientRequest fourth = stalledCall(client, server.server.grpcPort()).await(30, TimeUnit.SECONDS);
            assertEquals("8", grpcStatus(fourth.response()), "past --max-receiving: RESOURCE_EXHAUSTED");
            for (HttpClientRequest request : stalled) {
                request.reset();
            }
            Thread.sleep(500);
            assertEquals("0", grpcStatus(serverLive(client, server.server.grpcPort())),
                    "the places of calls the client gave up are free again");
            client.close();
        }
    }

    @Test
    void theGrpcListenersConnectionsAreBoundedPerClient(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0",
                "--max-connections-per-client", "20")) {
            List<Socket> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 60; i++) {
                    Socket socket = new Socket();
                    socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                    socket.connect(new InetSocketAddress("127.0.0.1", server.server.grpcPort()), 10_000);
                    // HTTP/2's client preface and an empty SETTINGS frame, as a gRPC client opens a connection
                    socket.getOutputStream().write(PREFACE);
                    flood.add(socket);
                }
                Thread.sleep(1000);
                HttpClient client = http2(vertx);
                assertEquals("0", grpcStatus(serverLive(client, server.server.grpcPort())), "another client is served");
                client.close();
                int open = OpenSockets.stillOpen(flood);
                System.out.printf("60 idle gRPC connections from one address: %d left open (bound 20)%n", open);
                assertTrue(open <= 20, open + " connections from one address left open");
            } finally {
                for (Socket socket : flood) {
                    socket.close();
                }
            }
        }
    }

    /** A ServerLive call (an empty message). */
    static Future<HttpClientResponse> serverLive(HttpClient client, int port) {
        return client.request(HttpMethod.POST, port, "127.0.0.1", "/inference.GRPCInferenceService/ServerLive")
                .compose(request -> request.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
                        .send(Buffer.buffer().appendByte((byte) 0).appendInt(0)));
    }
}
