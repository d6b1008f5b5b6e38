package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.testkit.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Decoded pixels and their 224x224 BILINEAR resize equal Pillow's
 * {@code ImageOps.exif_transpose(Image.open(f)).convert("RGB")} byte for byte, for the photos and
 * for synthetic images covering each format variant (testkit/fixtures/pillow/reference.json).
 * JPEGs are checked on both decoding paths: libjpeg-turbo and the JDK's reader; WebP, lossy too, is
 * decoded by libwebp as in Pillow.
 */
class PillowParityTest {

    private final ImageDecoder decoder = new ImageDecoder(40_000_000);

    static Stream<Arguments> exactFiles() {
        return PillowReference.decodedFiles().stream()
                .flatMap(f -> JpegPath.isJpeg(f)
                        ? Stream.of(Arguments.of(f, JpegPath.TURBOJPEG), Arguments.of(f, JpegPath.IMAGEIO))
                        : Stream.of(Arguments.of(f, null)));
    }

    @Test
    void everyFixturePhotoHasAReference() {
        for (String photo : List.of("astronaut-progressive.jpg", "camera-gray.png", "chelsea-exif6.jpg", "chelsea.png",
                "coffee.jpg", "green-palette.png", "logo-rgba.png", "rocket.jpg")) {
            assertTrue(PillowReference.json().get("decode").has("images/" + photo), photo);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("exactFiles")
    void decodesAndResizesLikePillow(String file, JpegPath path) throws Exception {
        JsonNode expected = PillowReference.decode(file);
        ImageDecoder decoder = path == null ? this.decoder : path.decoder(40_000_000);
        RgbImage image = decoder.decode(PillowReference.bytes(file));

        assertEquals(expected.get("width").asInt(), image.width(), file + " width");
        assertEquals(expected.get("height").asInt(), image.height(), file + " height");
        String digest = PillowReference.sha256(image.pixels());
        if (!digest.equals(expected.get("sha256").asText())) {
            throw new AssertionError(file + ": decoded pixels differ from Pillow's: " + diagnosis(file, image));
        }
        RgbImage resized = PillowResize.resize(image, 224, 224);
        assertEquals(expected.get("resize224_sha256").asText(), PillowReference.sha256(resized.pixels()),
                file + ": decoded pixels equal Pillow's but the 224x224 resize does not");
        try (DecodedImage inPlace = decoder.decodeForPreprocessing(PillowReference.bytes(file))) {
            assertEquals(expected.get("resize224_sha256").asText(),
                    PillowReference.sha256(PillowResize.resize(inPlace, 224, 224).pixels()),
                    file + ": the 224x224 resize of the pixels left in the decoder's buffer differs");
        }
    }

    @Test
    void sixteenBitGrayKeepsTheHighByteWherePillowSaturates() throws Exception {
        String file = "images-extra/gray16.png";
        JsonNode expected = PillowReference.decode(file);
        RgbImage image = decoder.decode(PillowReference.bytes(file));
        // documented deviation: the reference "sha256" is the high byte; Pillow's own result differs
        assertEquals(expected.get("sha256").asText(), PillowReference.sha256(image.pixels()));
        assertNotEquals(expected.get("pillow_sha256").asText(), PillowReference.sha256(image.pixels()));
        // gray16.png's first row runs 0, 1030, 2060, ... so the high bytes are 0, 4, 8, ...
        assertEquals(4, image.sample(1, 0, 0));
        assertEquals(image.sample(1, 0, 0), image.sample(1, 0, 2));
    }

    static Stream<Arguments> damagedJpegs() {
        List<Arguments> cases = new ArrayList<>();
        for (JsonNode c : PillowReference.json().get("damaged")) {
            cases.add(Arguments.of(c.get("image").asText() + " " + c.get("edits"), c));
        }
        return cases.stream();
    }

    /**
     * libjpeg-turbo's path accepts the damaged JPEGs Pillow accepts, with Pillow's pixels, and
     * refuses the others, a cut file as truncated. (The JDK path differs on some: the package
     * documentation says how.)
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("damagedJpegs")
    void damagedJpegsAreJudgedAsPillowJudgesThem(String name, JsonNode expected) throws Exception {
        byte[] data = PillowReference.damage(PillowReference.bytes(expected.get("image").asText()), expected.get("edits"));
        ImageDecoder decoder = JpegPath.TURBOJPEG.decoder(40_000_000);
        if (expected.has("refused")) {
            String pillow = expected.get("refused").asText();
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(data), pillow);
            assertEquals(ImageDecodeException.Reason.CORRUPT, e.reason());
            if (pillow.contains("truncated")) {
                assertEquals("the JPEG data ends early (truncated file)", e.getMessage(), pillow);
            }
        } else {
            assertEquals(expected.get("sha256").asText(), PillowReference.sha256(decoder.decode(data).pixels()));
        }
    }

    private String diagnosis(String file, RgbImage image) {
        Path png = PillowReference.expectedPng(file);
        if (png == null) {
            return "SHA-256 " + PillowReference.sha256(image.pixels()) + " (no Pillow PNG kept for this file)";
        }
        try {
            return PillowReference.difference(image, decoder.decode(Fixtures.bytes(png)));
        } catch (ImageDecodeException e) {
            return "cannot read " + png + ": " + e.getMessage();
        }
    }
}
