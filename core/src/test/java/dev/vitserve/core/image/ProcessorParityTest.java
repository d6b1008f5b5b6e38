package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vitserve.core.image.PreprocessStep.Exact;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every supported image processor class, with every Pillow filter and with and without its crop, gives
 * the very tensor (bit for bit) that Pillow + Hugging Face's slow processor steps give, and the very
 * 8-bit pixels after resize and crop. References: testkit/tools/make-processor-references.py (see the
 * README beside them in the test resources).
 */
class ProcessorParityTest {

    private static final String FOLDER = "processors/";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ImageDecoder DECODER = new ImageDecoder(40_000_000);

    @TempDir
    Path temp;

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (JsonNode c : reference().get("cases")) {
            cases.add(Arguments.of(c.get("name").asText() + " resample " + c.get("config").path("resample").asText("default"),
                    c.get("image").asText(), c));
        }
        return cases.stream();
    }

    private static JsonNode reference() {
        try {
            return JSON.readTree(bytes("reference.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] bytes(String name) {
        try (InputStream in = ProcessorParityTest.class.getResourceAsStream(FOLDER + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + FOLDER + name + " is missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Preprocessor preprocessor(JsonNode config) throws IOException {
        Path file = Files.createTempFile(temp, "preprocessor_config", ".json");
        Files.writeString(file, config.toString());
        return new Preprocessor(PreprocessorConfig.read(file));
    }

    private static float[] run(Preprocessor preprocessor, RgbImage image) throws ImageDecodeException {
        Exact size = preprocessor.outputSize(image.width(), image.height());
        float[] tensor = new float[3 * size.height() * size.width()];
        preprocessor.writeTensor(image, FloatBuffer.wrap(tensor));
        return tensor;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void tensorEqualsHuggingFacesSlowProcessor(String name, String file, JsonNode expected) throws Exception {
        RgbImage image = DECODER.decode(bytes(file));
        Preprocessor preprocessor = preprocessor(expected.get("config"));
        Exact size = preprocessor.outputSize(image.width(), image.height());
        JsonNode shape = expected.get("shape");
        assertEquals(shape.get(1).asInt() + "x" + shape.get(2).asInt(), size.height() + "x" + size.width(), "tensor height x width");
        float[] tensor = run(preprocessor, image);
        for (JsonNode sample : expected.get("samples")) {
            int c = sample.get(0).asInt();
            int y = sample.get(1).asInt();
            int x = sample.get(2).asInt();
            assertEquals((float) sample.get(3).asDouble(), tensor[(c * size.height() + y) * size.width() + x],
                    "value at channel " + c + ", row " + y + ", column " + x);
        }
        assertEquals(expected.get("sha256_float32_le").asText(), PillowReference.sha256(tensor), "whole tensor");

        if (expected.has("sha256_geometry_uint8_hwc")) {
            // the same geometry with every value step off: the 8-bit pixels before rescale and normalize
            ObjectNode raw = expected.get("config").deepCopy();
            raw.put("do_rescale", false).put("do_normalize", false);
            if (raw.path("image_processor_type").asText().startsWith("EfficientNet")) {
                raw.put("include_top", false);
            }
            float[] values = run(preprocessor(raw), image);
            int plane = size.height() * size.width();
            byte[] hwc = new byte[values.length];
            for (int i = 0; i < plane; i++) {
                for (int c = 0; c < 3; c++) {
                    float v = values[c * plane + i];
                    assertTrue(v >= 0 && v <= 255 && v == Math.rint(v), "an 8-bit value, got " + v);
                    hwc[i * 3 + c] = (byte) v;
                }
            }
            assertEquals(expected.get("sha256_geometry_uint8_hwc").asText(), PillowReference.sha256(hwc),
                    "uint8 pixels after resize and crop");
        }
    }
}
