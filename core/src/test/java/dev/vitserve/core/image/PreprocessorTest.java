package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.testkit.Fixtures;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The whole CHW float32 tensor equals the one ViTImageProcessor's numpy code makes from Pillow's pixels. */
class PreprocessorTest {

    private static final ImageDecoder DECODER = new ImageDecoder(40_000_000);

    @TempDir
    Path temp;

    static Stream<Arguments> tensorCases() {
        List<Arguments> cases = new ArrayList<>();
        for (JsonNode c : PillowReference.json().get("tensor")) {
            String file = c.get("image").asText();
            for (JpegPath path : JpegPath.isJpeg(file) ? JpegPath.values() : new JpegPath[] {null}) {
                cases.add(Arguments.of(file, c.get("config").toString(), path, c));
            }
        }
        return cases.stream();
    }

    /** Through {@link ImageDecoder#decodeForPreprocessing}: a JPEG is resized in libjpeg-turbo's buffer. */
    @ParameterizedTest(name = "{0} with {1} {2}")
    @MethodSource("tensorCases")
    void tensorEqualsHuggingFaces(String file, String config, JpegPath path, JsonNode expected) throws Exception {
        Path json = temp.resolve("preprocessor_config.json");
        Files.writeString(json, config);
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.read(json));
        JsonNode shape = expected.get("shape");
        assertEquals(shape.get(1).asInt(), preprocessor.height());
        assertEquals(shape.get(2).asInt(), preprocessor.width());

        ImageDecoder decoder = path == null ? DECODER : path.decoder(40_000_000);
        float[] tensor = new float[preprocessor.tensorLength()];
        try (DecodedImage image = decoder.decodeForPreprocessing(PillowReference.bytes(file))) {
            preprocessor.writeTensor(image, FloatBuffer.wrap(tensor));
        }
        assertTrue(Arrays.equals(tensor, tensor(preprocessor, decoder.decode(PillowReference.bytes(file)))),
                "the same tensor from the decoded RgbImage");

        int h = preprocessor.height();
        int w = preprocessor.width();
        for (JsonNode sample : expected.get("samples")) {
            int c = sample.get(0).asInt();
            int y = sample.get(1).asInt();
            int x = sample.get(2).asInt();
            assertEquals((float) sample.get(3).asDouble(), tensor[(c * h + y) * w + x],
                    "value at channel " + c + ", row " + y + ", column " + x);
        }
        assertEquals(expected.get("sha256_float32_le").asText(), PillowReference.sha256(tensor), "whole tensor");
    }

    @Test
    void tinyVitPreprocessorMatchesTheDefaults() throws Exception {
        PreprocessorConfig config = PreprocessorConfig.read(Fixtures.tinyVit().resolve("preprocessor_config.json"));
        assertEquals(PreprocessorConfig.defaults(), config);
    }

    @Test
    void writesAtThePositionAndAdvances() throws Exception {
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());
        assertEquals(3 * 224 * 224, preprocessor.tensorLength());
        FloatBuffer batch = ByteBuffer.allocateDirect(4 * (2 * preprocessor.tensorLength() + 1))
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        batch.put(7f);
        RgbImage white = uniform(10, 20, 255);
        preprocessor.writeTensor(white, batch);
        preprocessor.writeTensor(uniform(3, 3, 0), batch);
        assertEquals(1 + 2 * preprocessor.tensorLength(), batch.position());
        assertEquals(7f, batch.get(0));
        assertEquals(1f, batch.get(1)); // white: (1.0 - 0.5) / 0.5
        assertEquals(-1f, batch.get(1 + preprocessor.tensorLength())); // black
    }

    @Test
    void refusesAnImageSoElongatedThatResizingItWouldCostFarMoreThanItsPixels() throws Exception {
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());
        FloatBuffer out = FloatBuffer.allocate(preprocessor.tensorLength());
        // 4x80000 has a third of a megapixel, but its resize's first pass would make 80000 x 224 = 17.9M pixels
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> preprocessor.writeTensor(uniform(4, 80_000, 9), out));
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, e.reason());
        assertTrue(e.getMessage().contains("4x80000") && e.getMessage().contains("too elongated"), e.getMessage());
        assertEquals(0, out.position());
        // and the other way round, where the filter tables would be the cost
        e = assertThrows(ImageDecodeException.class, () -> preprocessor.writeTensor(uniform(80_000, 4, 9), out));
        assertEquals(ImageDecodeException.Reason.TOO_MANY_PIXELS, e.reason());
        assertEquals(0, out.position());
        // tall but within the bound (60000 x 224 = 13.4M): resized as Pillow would
        preprocessor.writeTensor(uniform(4, 60_000, 255), out);
        assertEquals(1f, out.get(0));
        assertEquals(1f, out.get(preprocessor.tensorLength() - 1));
    }

    @Test
    void refusesAWrongSizeWhenResizingIsOff() throws Exception {
        Path json = temp.resolve("preprocessor_config.json");
        Files.writeString(json, "{\"do_resize\": false, \"size\": {\"height\": 4, \"width\": 4}}");
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.read(json));
        FloatBuffer out = FloatBuffer.allocate(preprocessor.tensorLength());
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> preprocessor.writeTensor(uniform(5, 4, 1), out));
        assertEquals(ImageDecodeException.Reason.WRONG_SIZE, e.reason());
        assertTrue(e.getMessage().contains("5x4") && e.getMessage().contains("4x4"), e.getMessage());
        assertEquals(0, out.position());
        preprocessor.writeTensor(uniform(4, 4, 1), out); // the right size is fine
        assertEquals(48, out.position());
    }

    @Test
    void refusesABufferThatIsTooSmall() {
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.defaults());
        FloatBuffer small = FloatBuffer.allocate(preprocessor.tensorLength() - 1);
        assertThrows(BufferOverflowException.class, () -> preprocessor.writeTensor(uniform(2, 2, 0), small));
        assertEquals(0, small.position());
    }

    static float[] tensor(Preprocessor preprocessor, RgbImage image) throws ImageDecodeException {
        FloatBuffer out = FloatBuffer.allocate(preprocessor.tensorLength());
        preprocessor.writeTensor(image, out);
        return out.array();
    }

    private static RgbImage uniform(int width, int height, int value) {
        byte[] pixels = new byte[width * height * 3];
        java.util.Arrays.fill(pixels, (byte) value);
        return new RgbImage(width, height, pixels);
    }
}
