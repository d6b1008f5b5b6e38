package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CLIP towers built from the tiny-clip fixture's safetensors give the PyTorch port's projected image and text
 * embeddings (testkit/tools/clip-fixture.py) within 1e-4: images alone and in a batch, padded label batches, and id
 * rows on which the legacy pooling (largest id) and pooling at the first end-of-text differ.
 */
class ClipOnnxBackendTest {

    private static final BackendOptions CPU = new BackendOptions(DeviceRequest.CPU, 2, 4);
    private static JsonNode reference;
    private static JsonNode config;

    @BeforeAll
    static void read() throws IOException {
        ObjectMapper json = new ObjectMapper();
        reference = json.readTree(Fixtures.tinyClip().resolve("reference.json").toFile());
        config = json.readTree(Fixtures.tinyClip().resolve("config.json").toFile());
    }

    /** config.json read the way core's loader reads it, here by hand; {@code eos} overrides text_config's. */
    static ModelFiles files(Long eos) {
        JsonNode v = config.get("vision_config");
        JsonNode t = config.get("text_config");
        int projection = config.get("projection_dim").asInt();
        VitConfig vision = new VitConfig(v.get("image_size").asInt(), v.get("image_size").asInt(), 3,
                v.get("patch_size").asInt(), v.get("hidden_size").asInt(), v.get("num_hidden_layers").asInt(),
                v.get("num_attention_heads").asInt(), v.get("intermediate_size").asInt(),
                v.get("layer_norm_eps").asDouble(), true, projection, v.get("hidden_act").asText());
        ClipConfig.Text text = new ClipConfig.Text(t.get("vocab_size").asInt(), t.get("hidden_size").asInt(),
                t.get("num_hidden_layers").asInt(), t.get("num_attention_heads").asInt(),
                t.get("intermediate_size").asInt(), t.get("max_position_embeddings").asInt(),
                t.get("layer_norm_eps").asDouble(), t.get("hidden_act").asText(),
                eos != null ? eos : t.get("eos_token_id").asLong());
        Path folder = Fixtures.tinyClip();
        return new ModelFiles("tiny-clip", folder, vision,
                Optional.of(TestSafetensors.open(folder.resolve("model.safetensors"))),
                Optional.of(new ClipConfig(vision, text, projection)));
    }

    private static PixelBatch pixels(int from, int count) {
        JsonNode values = reference.get("pixel_values_of_first_two");
        int per = 3 * 30 * 30;
        FloatBuffer buffer = ByteBuffer.allocateDirect(count * per * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        for (int i = from * per; i < (from + count) * per; i++) {
            buffer.put(values.get(i).floatValue());
        }
        return new PixelBatch(buffer.flip(), count, 3, 30, 30);
    }

    private static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).floatValue();
        }
        return values;
    }

    private static long[] longs(JsonNode rows) {
        int length = rows.get(0).size();
        long[] ids = new long[rows.size() * length];
        for (int r = 0; r < rows.size(); r++) {
            for (int i = 0; i < length; i++) {
                ids[r * length + i] = rows.get(r).get(i).asLong();
            }
        }
        return ids;
    }

    @Test
    void imageTowerGivesThePortsImageEmbeds() throws BackendException {
        try (Backend backend = new OnnxBackendProvider().open(files(null), CPU)) {
            assertTrue(backend.embeds());
            Logits batch = backend.infer(pixels(0, 2));
            assertEquals(0, batch.numLabels());
            assertEquals(12, batch.hiddenSize());
            for (int i = 0; i < 2; i++) {
                float[] expected = floats(reference.get("image_embeds").get(i));
                assertArrayEquals(expected, batch.embedding(i), 1e-4f, "image " + i);
                assertArrayEquals(expected, backend.infer(pixels(i, 1)).embedding(0), 1e-4f, "image " + i + " alone");
            }
        }
    }

    @Test
    void textTowerGivesThePortsTextEmbedsForPaddedLabelBatches() throws BackendException {
        try (Backend backend = new OnnxBackendProvider().open(files(null), CPU)) {
            TextEncoder text = backend.text().orElseThrow();
            assertEquals(12, text.dimensions());
            for (JsonNode set : reference.get("label_sets")) {
                JsonNode rows = set.get("input_ids");
                float[] embeds = text.encode(longs(rows), rows.size(), rows.get(0).size());
                for (int r = 0; r < rows.size(); r++) {
                    float[] row = java.util.Arrays.copyOfRange(embeds, r * 12, (r + 1) * 12);
                    assertArrayEquals(floats(set.get("text_embeds").get(r)), row, 1e-4f, set.get("texts").get(r).asText());
                }
            }
        }
    }

    @Test
    void bothPoolingRulesAreThoseOfTransformers() throws BackendException {
        JsonNode pooling = reference.get("pooling");
        JsonNode rows = pooling.get("input_ids");
        for (boolean legacy : new boolean[] {true, false}) {
            try (Backend backend = new OnnxBackendProvider().open(files(legacy ? null : pooling.get("eos_token_id").asLong()),
                    CPU)) {
                float[] embeds = backend.text().orElseThrow().encode(longs(rows), rows.size(), rows.get(0).size());
                JsonNode expected = pooling.get(legacy ? "legacy_eos_2" : "by_eos_token");
                for (int r = 0; r < rows.size(); r++) {
                    assertArrayEquals(floats(expected.get(r)), java.util.Arrays.copyOfRange(embeds, r * 12, (r + 1) * 12),
                            1e-4f, (legacy ? "legacy" : "eos") + " row " + r);
                }
            }
        }
    }

    @Test
    void idsOutsideTheTowerAreRefused() throws BackendException {
        try (Backend backend = new OnnxBackendProvider().open(files(null), CPU)) {
            TextEncoder text = backend.text().orElseThrow();
            assertThrows(IllegalArgumentException.class, () -> text.encode(new long[17], 1, 17));
            assertThrows(IllegalArgumentException.class, () -> text.encode(new long[] {0, 634}, 1, 2));
        }
    }
}
