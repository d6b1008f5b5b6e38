package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.vitserve.testkit.Concurrently;
import java.util.concurrent.Callable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Damaged uploads end in an ImageDecodeException or an image, never in any other exception; decoding is thread-safe. */
class ImageDecoderRobustnessTest {

    private final ImageDecoder decoder = new ImageDecoder(4_000_000);

    static Stream<Arguments> damageable() {
        return Stream.of("images/coffee.jpg", "images/astronaut-progressive.jpg", "images-extra/cmyk.jpg",
                "images-extra/orientation-6.jpg", "images-extra/cjpeg-arithmetic.jpg", "images/green-palette.png",
                "images-extra/rgb16.png", "images-extra/palette-4bit.png", "images-extra/orientation-8-raw-profile.png",
                "images-extra/animated.gif", "images-extra/gif-offset-frame.gif", "images-extra/rgb24.bmp",
                "images-extra/palette8.bmp", "images-extra/lossless.webp", "images-extra/lossy-alpha.webp",
                "images-extra/orientation-6.webp")
                .flatMap(f -> JpegPath.isJpeg(f)
                        ? Stream.of(Arguments.of(f, JpegPath.TURBOJPEG), Arguments.of(f, JpegPath.IMAGEIO))
                        : Stream.of(Arguments.of(f, null)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("damageable")
    void damagedCopiesFailCleanly(String file, JpegPath path) {
        ImageDecoder decoder = path == null ? this.decoder : path.decoder(4_000_000);
        byte[] original = PillowReference.bytes(file);
        Random random = new Random(file.hashCode());
        int failures = 0;
        for (int round = 0; round < 40; round++) {
            byte[] damaged = damage(original, random);
            try {
                RgbImage image = decoder.decode(damaged);
                assertEquals((long) image.width() * image.height() * 3, image.pixels().length);
            } catch (ImageDecodeException e) {
                failures++;
                ImageDecoderErrorsTest.assertHumanSentence(e.getMessage());
            } catch (Throwable t) {
                fail(file + ", damaged copy " + round + ": " + t + " escaped the decoder", t);
            }
        }
        System.out.println(file + (path == null ? "" : " (" + path + ")") + ": " + failures + " of 40 damaged copies refused");
    }

    /** Flips bytes, cuts the file short or overwrites a run, away from the first few signature bytes. */
    private static byte[] damage(byte[] original, Random random) {
        byte[] data = original.clone();
        int from = Math.min(12, data.length - 1);
        switch (random.nextInt(4)) {
            case 0 -> {
                for (int i = 1 + random.nextInt(8); i > 0; i--) {
                    data[from + random.nextInt(data.length - from)] ^= (byte) (1 + random.nextInt(255));
                }
            }
            case 1 -> data = Arrays.copyOf(data, from + random.nextInt(data.length - from));
            case 2 -> {
                // damage the headers: the first 400 bytes
                int limit = Math.min(400, data.length);
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    data[from + random.nextInt(limit - from)] = (byte) random.nextInt(256);
                }
            }
            default -> {
                int start = from + random.nextInt(data.length - from);
                int end = Math.min(data.length, start + 1 + random.nextInt(64));
                for (int i = start; i < end; i++) {
                    data[i] = (byte) 0xFF;
                }
            }
        }
        return data;
    }

    @Test
    void decodesConcurrentlyWithTheSameResults() throws Exception {
        List<String> files = List.of("images/coffee.jpg", "images/chelsea.png", "images-extra/animated.gif",
                "images-extra/lossless.webp", "images-extra/rgb24.bmp", "images-extra/cmyk.jpg");
        List<RgbImage> expected = new ArrayList<>();
        for (String file : files) {
            expected.add(decoder.decode(PillowReference.bytes(file)));
        }
        List<Callable<RgbImage>> decodes = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            for (String file : files) {
                decodes.add(() -> decoder.decode(PillowReference.bytes(file)));
            }
        }
        List<RgbImage> results = Concurrently.call(4, decodes);
        for (int i = 0; i < results.size(); i++) {
            assertEquals(expected.get(i % files.size()), results.get(i), files.get(i % files.size()));
        }
    }
}
