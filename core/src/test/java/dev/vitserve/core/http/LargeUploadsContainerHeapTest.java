package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Finding 4 of issue 23, with the container's heap (-Xmx1g -XX:+ExitOnOutOfMemoryError) and the default settings:
 * 40 parallel valid 20-megapixel JPEGs of about 15 MB each used to end the JVM with an OutOfMemoryError. Now their
 * bodies, pixels and tensors are admitted against the memory budget: those past it get 503 with Retry-After at once,
 * the others are answered, an ordinary classify beside them is answered 200, and the budget is all given back.
 */
@Tag("container-heap")
@ExtendWith(VertxExtension.class)
class LargeUploadsContainerHeapTest {

    private static final int PARALLEL = 40;

    @Test
    void fortyLargeJpegsAtOnceAreAdmittedWithinTheBudgetAndAnOrdinaryRequestIsServed(Vertx vertx) throws Exception {
        byte[] large = largeJpeg(5472, 3648);
        assertTrue(large.length > 12_000_000 && large.length < 20_000_000, "a JPEG of " + large.length + " bytes");
        byte[] photo = Files.readAllBytes(Fixtures.image("coffee.jpg"));
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                    .setDefaultPort(server.port()), new PoolOptions().setHttp1MaxSize(PARALLEL + 8));
            Buffer body = Buffer.buffer(large);
            large = null;
            List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
            for (int i = 0; i < PARALLEL; i++) {
                sent.add(client.post("/v1/classify").putHeader("Content-Type", "image/jpeg").sendBuffer(body));
            }
            HttpResponse<Buffer> beside = client.post("/v1/classify").putHeader("Content-Type", "image/jpeg")
                    .sendBuffer(Buffer.buffer(photo)).await(120, TimeUnit.SECONDS);
            assertEquals(200, beside.statusCode(), beside.bodyAsString());
            int answered = 0;
            int refused = 0;
            for (Future<HttpResponse<Buffer>> future : sent) {
                HttpResponse<Buffer> response;
                try {
                    response = future.await(180, TimeUnit.SECONDS);
                } catch (Exception closedEarly) {
                    continue; // a refused upload's connection may close before the client reads the 503
                }
                if (response.statusCode() == 200) {
                    answered++;
                } else {
                    assertEquals(503, response.statusCode(), response.bodyAsString());
                    assertNotNull(response.getHeader("Retry-After"), response.bodyAsString());
                    assertTrue(response.bodyAsString().contains("memory"), response.bodyAsString());
                    refused++;
                }
            }
            System.out.printf("%d uploads of %d bytes at once: %d answered 200, %d refused 503, %d connections closed"
                    + " early%n", PARALLEL, body.length(), answered, refused, PARALLEL - answered - refused);
            assertTrue(answered > 0, "some large uploads answered");
            assertTrue(refused > 0, "some large uploads refused");
            assertEquals(200, server.postImage("/v1/classify", photo, "image/jpeg").statusCode());
            assertEquals(200, client.post("/v1/classify").putHeader("Content-Type", "image/jpeg").sendBuffer(body)
                    .await(120, TimeUnit.SECONDS).statusCode(), "the budget was given back");
            client.close();
        }
    }

    /** A valid baseline JPEG of {@code width x height} noisy pixels, large for its size, made with the JDK's writer. */
    static byte[] largeJpeg(int width, int height) throws Exception {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        byte[] pixels = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        SplittableRandom random = new SplittableRandom(23);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (((i / 3) % width) / 24 + random.nextInt(96));
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream(20_000_000);
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.92f);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }
}
