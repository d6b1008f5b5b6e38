package dev.vitserve.core.http;

import static dev.vitserve.core.http.ProtocolErrorsTest.assertJsonError;
import static dev.vitserve.core.http.ProtocolErrorsTest.exchange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Multipart uploads cost no more than their bytes: files are held in memory within the body limit,
 * so no request, whole, cut off, unterminated or with too many files, leaves a descriptor or a
 * temporary file behind, and each gets its answer at once.
 */
@ExtendWith(VertxExtension.class)
class UploadLimitsTest {

    private static final String BOUNDARY = "vitserve-test-boundary";

    @Test
    void multipartWithoutItsClosingBoundaryIsA400AtOnceAndLeavesNothingOpen(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            byte[] photo = Fixtures.bytes(Fixtures.image("coffee.jpg"));
            long fds = openDescriptors();
            for (int i = 0; i < 20; i++) {
                long start = System.nanoTime();
                String answer = exchange(server, multipart(new String(photo, StandardCharsets.ISO_8859_1), 1, false));
                assertJsonError(answer, 400, "bad_multipart");
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "answered at once");
            }
            assertSettles(fds, "after 20 unterminated multipart requests");
            assertNoUploadFolder();
        }
    }

    @Test
    void moreFilesThanMaxFilesIsA413WhileStreamingAndLeavesNothingOpen(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-files", "16")) {
            Buffer photo = Buffer.buffer(Fixtures.bytes(Fixtures.image("coffee.jpg")));
            long fds = openDescriptors();
            for (int files : new int[] {17, 33, 40}) {
                MultipartForm form = MultipartForm.create();
                for (int i = 0; i < files; i++) {
                    form.binaryFileUpload("f" + i, "f" + i + ".jpg", photo, "image/jpeg");
                }
                var response = server.client.post("/v1/classify").sendMultipartForm(form).await(30, TimeUnit.SECONDS);
                ApiErrorsTest.assertError(response, 413, "too_many_files");
            }
            MultipartForm sixteen = MultipartForm.create();
            for (int i = 0; i < 16; i++) {
                sixteen.binaryFileUpload("f" + i, "f" + i + ".jpg", photo, "image/jpeg");
            }
            assertEquals(200, server.client.post("/v1/classify").sendMultipartForm(sixteen).await(60, TimeUnit.SECONDS)
                    .statusCode(), "16 files are served");
            // a client that sends half a file and hangs up
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                String body = multipart("x".repeat(100_000), 1, false);
                OutputStream out = socket.getOutputStream();
                out.write(body.substring(0, body.length() / 2).replace("Content-Length: " + (body.length()
                        - body.indexOf("\r\n\r\n") - 4), "Content-Length: 999999").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                Thread.sleep(200);
            }
            assertSettles(fds, "after multipart requests of 17, 33, 40 and 16 files and an aborted upload");
            assertNoUploadFolder();
        }
    }

    /** A raw multipart request; {@code closed} says whether the body ends with its closing boundary. */
    static String multipart(String content, int files, boolean closed) {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < files; i++) {
            body.append("--").append(BOUNDARY).append("\r\nContent-Disposition: form-data; name=\"f").append(i)
                    .append("\"; filename=\"f").append(i).append(".jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                    .append(content).append("\r\n");
        }
        if (closed) {
            body.append("--").append(BOUNDARY).append("--\r\n");
        }
        return "POST /v1/classify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=" + BOUNDARY
                + "\r\nContent-Length: " + body.toString().getBytes(StandardCharsets.ISO_8859_1).length + "\r\n\r\n" + body;
    }

    /** This JVM's open descriptors (server and test alike) come back to what they were, give or take a few. */
    static void assertSettles(long before, String when) throws Exception {
        long now = openDescriptors();
        for (int i = 0; i < 50 && now > before + 4; i++) {
            Thread.sleep(100);
            now = openDescriptors();
        }
        System.out.printf("open descriptors %s: %d (before: %d)%n", when, now, before);
        assertTrue(now <= before + 4, "open descriptors " + when + ": " + now + ", before: " + before);
    }

    static long openDescriptors() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** Vert.x's BodyHandler writes uploads to this folder: vitserve never makes it, since uploads stay in memory. */
    private static void assertNoUploadFolder() {
        assertTrue(!Files.exists(Path.of(io.vertx.ext.web.handler.BodyHandler.DEFAULT_UPLOADS_DIRECTORY)),
                "no uploads folder is made");
    }
}
