package dev.vitserve.core.protocol.oip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelReadyRequest;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * What one small gRPC call could make the server spend is bounded, with the container's heap (-Xmx1g, run by the
 * {@code container-heap} execution): a compressed message by its inflated size, a message of millions of empty
 * entries by its counts before it is built (and on a worker, not the event loop), a call without a message and a
 * status quoting request content by a clear short answer, stalled calls by the bytes they sent and per client. Beside
 * each attack a normal request is answered, fast, and the log gets no stack trace.
 */
@Tag("container-heap")
@ExtendWith(VertxExtension.class)
class GrpcAbuseTest {

    static final String SERVICE = "/inference.GRPCInferenceService/";
    static final int MB = 1024 * 1024;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void captureLog() {
        log.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(log);
    }

    @AfterEach
    void noStackTraces() {
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
        List<ILoggingEvent> faults = log.list.stream()
                .filter(event -> event.getThrowableProxy() != null || event.getLevel().isGreaterOrEqual(Level.ERROR))
                .toList();
        assertTrue(faults.isEmpty(), "client faults logged as errors or with stack traces: " + faults);
    }

    record Answer(String status, String message, HttpClientResponse response, double seconds) {
    }

    /** A gRPC message frame: the compressed flag, the length, the bytes. */
    static Buffer frame(boolean compressed, byte[] payload) {
        return Buffer.buffer().appendByte((byte) (compressed ? 1 : 0)).appendInt(payload.length).appendBytes(payload);
    }

    static Future<HttpClientRequest> open(HttpClient client, int port, String method, String... headers) {
        return client.request(HttpMethod.POST, port, "127.0.0.1", SERVICE + method).map(request -> {
            request.putHeader("content-type", "application/grpc").putHeader("te", "trailers");
            // the test's own client: a call it resets, or still open when the server stops, is no server fault
            request.exceptionHandler(failure -> { });
            for (int i = 0; i < headers.length; i += 2) {
                request.putHeader(headers[i], headers[i + 1]);
            }
            return request;
        });
    }

    /** A grpc-message as sent, percent-encoded, decoded. */
    static String decoded(String message) {
        if (message == null) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            if (c == '%' && i + 2 < message.length()) {
                bytes.write(Integer.parseInt(message.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The call's status and message: in its headers when trailers-only, else in its trailers. */
    static Answer answer(Future<HttpClientResponse> response, long start) throws Exception {
        return response.compose(answer -> {
            if (answer.getHeader("grpc-status") != null) {
                return Future.succeededFuture(new Answer(answer.getHeader("grpc-status"), decoded(answer.getHeader("grpc-message")),
                        answer, (System.nanoTime() - start) / 1e9));
            }
            return answer.end().map(v -> new Answer(answer.getTrailer("grpc-status"), decoded(answer.getTrailer("grpc-message")),
                    answer, (System.nanoTime() - start) / 1e9));
        }).await(60, TimeUnit.SECONDS);
    }

    static Answer call(HttpClient client, int port, String method, Buffer body, String... headers) throws Exception {
        long start = System.nanoTime();
        return answer(open(client, port, method, headers)
                .compose(request -> body == null ? request.send() : request.send(body)), start);
    }

    static HttpClient http2(Vertx vertx, String localAddress) {
        return vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false).setHttp2MultiplexingLimit(200).setLocalAddress(localAddress));
    }

    static byte[] inferImage() throws IOException {
        byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
        return ModelInferRequest.newBuilder().setModelName("tiny-vit")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("image").setDatatype("BYTES")
                        .addShape(1))
                .addRawInputContents(ByteString.copyFrom(Buffer.buffer().appendIntLE(png.length).appendBytes(png)
                        .getBytes()))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("logits"))
                .build().toByteArray();
    }

    static byte[] compress(boolean gzip, byte[] bytes, long zeros) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream compressing = gzip ? new GZIPOutputStream(out) : new DeflaterOutputStream(out)) {
            compressing.write(bytes);
            byte[] block = new byte[MB];
            for (long left = zeros; left > 0; left -= block.length) {
                compressing.write(block, 0, (int) Math.min(block.length, left));
            }
        }
        return out.toByteArray();
    }

    /** {@code count} times the two bytes of an empty entry of field {@code field} (length-delimited). */
    static byte[] emptyEntries(int field, int count) {
        byte[] bytes = new byte[count * 2];
        for (int i = 0; i < bytes.length; i += 2) {
            bytes[i] = (byte) (field << 3 | 2);
        }
        return bytes;
    }

    static void varint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    /** A ModelInferRequest with one input whose packed shape is {@code dims} zeros. */
    static byte[] packedShape(int dims) {
        ByteArrayOutputStream tensor = new ByteArrayOutputStream();
        tensor.write(3 << 3 | 2);
        varint(tensor, dims);
        tensor.writeBytes(new byte[dims]);
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        message.write(5 << 3 | 2);
        varint(message, tensor.size());
        message.writeBytes(tensor.toByteArray());
        return message.toByteArray();
    }

    @Test
    void compressedMessagesAreBoundedByWhatTheyInflateTo(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0")) {
            HttpClient client = http2(vertx, "127.0.0.1");
            int port = server.server.grpcPort();
            for (boolean gzip : new boolean[] {true, false}) {
                String encoding = gzip ? "gzip" : "deflate";
                byte[] bomb = compress(gzip, new byte[0], 100L * MB);
                Answer refused = call(client, port, "ModelInfer", frame(true, bomb), "grpc-encoding", encoding);
                System.out.printf("a %d KB %s message inflating to 100 MB: status %s in %.2f s (%s)%n",
                        bomb.length / 1024, encoding, refused.status(), refused.seconds(), refused.message());
                assertEquals("8", refused.status(), encoding + " bomb: RESOURCE_EXHAUSTED");
                assertTrue(refused.message().contains("inflates past"), refused.message());
                assertTrue(refused.seconds() < 10, "refused once past the bound: " + refused.seconds() + " s");
                Answer served = call(client, port, "ModelInfer", frame(true, compress(gzip, inferImage(), 0)),
                        "grpc-encoding", encoding);
                assertEquals("0", served.status(), "a normal " + encoding + " ModelInfer: " + served.message());
                System.out.printf("a normal %s ModelInfer beside it: status 0 in %.2f s%n", encoding, served.seconds());
            }
            Answer unknown = call(client, port, "ServerLive", frame(true, new byte[] {1, 2, 3}), "grpc-encoding", "snappy");
            assertEquals("12", unknown.status(), "an encoding not supported: UNIMPLEMENTED");
            assertTrue(unknown.response().headers().getAll("grpc-accept-encoding").toString().contains("gzip"),
                    "grpc-accept-encoding lists what is: " + unknown.response().headers());
            assertEquals("0", call(client, port, "ServerLive", frame(false, new byte[0])).status(), "served on after");
            client.close();
        }
    }

    @Test
    void messagesOfMillionsOfEntriesAreRefusedBeforeTheyAreBuiltAndOffTheEventLoop(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0")) {
            HttpClient client = http2(vertx, "127.0.0.1");
            int port = server.server.grpcPort();
            int entries = (int) (19.9 * 1000 * 1000 / 2);
            byte[][] attacks = {emptyEntries(5, entries), emptyEntries(6, entries), packedShape(19_900_000),
                packedShape(3000)};
            String[] bounds = {"inputs has more than 16", "outputs has more than 16", "shape has more than 8",
                "shape has more than 8"};
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            for (int i = 0; i < attacks.length; i++) {
                long start = System.nanoTime();
                byte[] attack = attacks[i];
                // two senders at once, and REST and gRPC requests beside them
                Future<HttpClientResponse> first = open(client, port, "ModelInfer")
                        .compose(request -> request.send(frame(false, attack)));
                Future<HttpClientResponse> second = open(client, port, "ModelInfer")
                        .compose(request -> request.send(frame(false, attack)));
                double slowest = 0;
                for (int k = 0; k < 5; k++) {
                    long begun = System.nanoTime();
                    assertEquals(200, server.postImage("/v1/classify", png, "image/png").statusCode());
                    slowest = Math.max(slowest, (System.nanoTime() - begun) / 1e9);
                }
                Answer normal = call(client, port, "ModelInfer", frame(false, inferImage()));
                assertEquals("0", normal.status(), "a normal ModelInfer beside: " + normal.message());
                for (Future<HttpClientResponse> sender : List.of(first, second)) {
                    Answer refused = answer(sender, start);
                    assertEquals("3", refused.status(), "INVALID_ARGUMENT: " + refused.message());
                    assertTrue(refused.message().contains(bounds[i]), refused.message());
                    assertTrue(refused.seconds() < 30, refused.seconds() + " s");
                }
                System.out.printf("2 x %.1f MB (%s): INVALID_ARGUMENT in %.2f s; 5 classify beside, slowest %.2f s;"
                        + " a ModelInfer %.2f s%n", attacks[i].length / 1e6, bounds[i],
                        (System.nanoTime() - start) / 1e9, slowest, normal.seconds());
                assertTrue(slowest < 5, "classify beside the attack took " + slowest + " s");
            }
            client.close();
        }
    }

    @Test
    void aCallEndingWithoutAMessageIsInvalidArgument(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0")) {
            HttpClient client = http2(vertx, "127.0.0.1");
            int port = server.server.grpcPort();
            for (int i = 0; i < 50; i++) {
                Answer headersOnly = call(client, port, i % 2 == 0 ? "ModelInfer" : "ServerLive", null);
                assertEquals("3", headersOnly.status());
                assertEquals("the call ended without a request message", headersOnly.message());
                Answer web = call(client, port, "ServerLive", Buffer.buffer(),
                        "content-type", "application/grpc-web+proto");
                assertEquals("3", web.status(), "an empty gRPC-Web body");
            }
            assertEquals("0", call(client, port, "ServerLive", frame(false, new byte[0])).status());
            Answer two = call(client, port, "ServerLive", frame(false, new byte[0]).appendBuffer(frame(false, new byte[0])));
            assertEquals("3", two.status(), "two messages on a unary call: " + two.message());
            client.close();
        }
    }

    @Test
    void statusMessagesAreBoundedWhateverTheyQuote(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0")) {
            HttpClient client = http2(vertx, "127.0.0.1");
            int port = server.server.grpcPort();
            String name = "n".repeat(100_000);
            Answer unknown = call(client, port, "ModelReady",
                    frame(false, ModelReadyRequest.newBuilder().setName(name).build().toByteArray()));
            assertEquals("5", unknown.status(), "NOT_FOUND, not a reset stream");
            String sent = unknown.response().headers().get("grpc-message");
            System.out.printf("a 100 KB model name: NOT_FOUND, grpc-message of %d bytes%n", sent.length());
            assertTrue(sent.length() <= OipGrpcService.MAX_STATUS_MESSAGE, sent);
            assertTrue(unknown.message().contains("..."), unknown.message());
            Answer version = call(client, port, "ModelReady", frame(false, ModelReadyRequest.newBuilder()
                    .setName("tiny-vit").setVersion("é".repeat(50_000)).build().toByteArray()));
            assertEquals("5", version.status());
            assertTrue(version.response().headers().get("grpc-message").length() <= OipGrpcService.MAX_STATUS_MESSAGE);
            assertTrue(version.message().contains("..."), version.message());
            assertEquals("0", call(client, port, "ModelInfer", frame(false, inferImage())).status(), "served beside");
            client.close();
        }
        String cut = OipGrpcService.bounded("€".repeat(5000));
        assertTrue(cut.endsWith("...") && cut.length() < 120, cut.length() + " characters");
        assertEquals("short", OipGrpcService.bounded("short"));
    }

    /** A call that sends the prefix of a message of {@code declared} bytes and {@code sent} bytes of it, then stalls. */
    static HttpClientRequest stalled(HttpClient client, int port, int declared, int sent) throws Exception {
        return open(client, port, "ModelInfer").compose(request -> {
            request.setChunked(true);
            return request.write(Buffer.buffer().appendByte((byte) 0).appendInt(declared).appendBytes(new byte[sent]))
                    .map(request);
        }).await(30, TimeUnit.SECONDS);
    }

    @Test
    void stalledCallsHoldTheBytesTheySentAndOneClientOnlySoMany(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--grpc-port", "0", "--max-body-size", "1MB",
                "--max-receiving-size", "1MB", "--max-receiving-per-client", "30", "--body-timeout-ms", "30000")) {
            HttpClient client = http2(vertx, "127.0.0.1");
            int port = server.server.grpcPort();
            List<HttpClientRequest> calls = new ArrayList<>();
            for (int i = 0; i < 26; i++) {
                calls.add(stalled(client, port, 1_000_000, 2_900));
            }
            Thread.sleep(500);
            // each held a whole --max-body-size before: the 2nd was refused, and any REST body
            long start = System.nanoTime();
            assertEquals("0", call(client, port, "ModelInfer", frame(false, inferImage())).status(),
                    "a ModelInfer beside 26 stalled calls");
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            byte[] large = new byte[600_000];
            System.arraycopy(png, 0, large, 0, png.length);
            assertNotEquals(503, server.postImage("/v1/classify", large, "image/png").statusCode(),
                    "a 600 KB upload is received beside them");
            System.out.printf("26 calls stalled after 2.9 KB (bounds 1 MB of bodies, 1 MB a message): a ModelInfer"
                    + " and a 600 KB upload received beside them in %.2f s%n", (System.nanoTime() - start) / 1e9);
            for (int i = 0; i < 4; i++) {
                calls.add(stalled(client, port, 1_000_000, 2_900));
            }
            Thread.sleep(500);
            HttpClientRequest over = stalled(client, port, 1_000_000, 2_900);
            assertEquals("8", answer(over.response(), System.nanoTime()).status(),
                    "a 31st call from one address: RESOURCE_EXHAUSTED");
            HttpClient other = http2(vertx, "127.0.0.2");
            assertEquals("0", call(other, port, "ServerLive", frame(false, new byte[0])).status(),
                    "another address is served");
            HttpClientRequest big = stalled(other, port, 1_000_000, 990_000);
            Answer refused = answer(big.response(), System.nanoTime());
            assertEquals("8", refused.status(), "bytes past --max-receiving-size as they arrive: " + refused.message());
            for (HttpClientRequest call : calls) {
                call.reset();
            }
            Thread.sleep(500);
            assertEquals("0", call(other, port, "ModelInfer", frame(false, inferImage())).status(), "served on after");
            assertEquals("0", call(client, port, "ServerLive", frame(false, new byte[0])).status(),
                    "the places of calls reset are given back");
            client.close();
            other.close();
        }
    }
}
