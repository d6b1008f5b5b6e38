package dev.vitserve.core.inference;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.core.image.DecodedImage;
import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import javax.imageio.ImageIO;

/**
 * Runs a generated photo through decoding, preprocessing and the engine before the server
 * answers, so that its first users do not wait for the JIT to compile the image code or for the
 * engine's first-run allocations (together about 10x a warm request's decode and preprocessing,
 * and a slower first inference).
 */
public final class WarmUp {

    /** Decodes and resizes of the photo: enough for the JIT to compile their loops. */
    static final int PREPARATIONS = 20;

    static final int PHOTO_WIDTH = 640;
    static final int PHOTO_HEIGHT = 480;

    /**
     * What warming up did.
     *
     * @param firstPrepareMs decode + preprocess of the photo, the first time
     * @param lastPrepareMs the same, the last time
     */
    public record Report(int preparations, int inferences, int largestBatch, double firstPrepareMs,
                         double lastPrepareMs, double lastInferenceMs, double totalMs) {
    }

    private WarmUp() {
    }

    /**
     * Decodes and preprocesses a 640x480 JPEG {@value #PREPARATIONS} times, then runs {@code inferences}
     * batches of one image through {@code backend}, and one batch of {@code largestBatch} copies when that
     * is more than one (an engine allocates for each batch size the first time it meets it); nothing at
     * all when {@code inferences} is 0. The photo is decoded whatever the server's pixel cap (the
     * decoders' code and buffers are shared).
     */
    public static Report run(Preprocessor preprocessor, Backend backend, int inferences, int largestBatch)
            throws BackendException, ImageDecodeException {
        if (inferences <= 0) {
            return new Report(0, 0, 0, 0, 0, 0, 0);
        }
        long start = System.nanoTime();
        byte[] photo = photo(PHOTO_WIDTH, PHOTO_HEIGHT);
        ImageDecoder decoder = new ImageDecoder((long) PHOTO_WIDTH * PHOTO_HEIGHT);
        FloatBuffer pixels = ByteBuffer.allocateDirect(preprocessor.tensorLength() * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        double first = 0;
        double last = 0;
        for (int i = 0; i < PREPARATIONS; i++) {
            long t0 = System.nanoTime();
            pixels.clear();
            try (DecodedImage image = decoder.decodeForPreprocessing(photo)) {
                preprocessor.writeTensor(image, pixels);
            }
            last = (System.nanoTime() - t0) / 1e6;
            first = i == 0 ? last : first;
        }
        pixels.flip();
        PixelBatch batch = new PixelBatch(pixels, 1, 3, preprocessor.height(), preprocessor.width());
        double inferenceMs = 0;
        for (int i = 0; i < inferences; i++) {
            long t0 = System.nanoTime();
            backend.infer(batch);
            inferenceMs = (System.nanoTime() - t0) / 1e6;
        }
        if (largestBatch > 1) {
            backend.infer(copies(batch, largestBatch));
        }
        return new Report(PREPARATIONS, inferences, Math.max(1, largestBatch), first, last, inferenceMs,
                (System.nanoTime() - start) / 1e6);
    }

    private static PixelBatch copies(PixelBatch one, int count) {
        FloatBuffer image = one.pixels().duplicate();
        FloatBuffer pixels = ByteBuffer.allocateDirect(image.remaining() * count * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < count; i++) {
            pixels.put(image.duplicate());
        }
        pixels.flip();
        return new PixelBatch(pixels, count, one.channels(), one.height(), one.width());
    }

    /** A JPEG with smooth gradients and fine noise, like a photo: every decoding stage has work to do. */
    static byte[] photo(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        long seed = 42;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                seed = seed * 6364136223846793005L + 1442695040888963407L;
                int noise = (int) (seed >>> 59);
                int r = (x * 255 / width + noise) & 0xFF;
                int g = (y * 255 / height + noise) & 0xFF;
                int b = ((x + y) * 127 / (width + height) + 64 + noise) & 0xFF;
                image.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "jpg", out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the warm-up photo", e);
        }
        return out.toByteArray();
    }
}
