package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import dev.vitserve.api.Precision;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TinySiglip;
import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CLIP and SigLIP in int8 ({@code --precision int8}): both towers built with the encoders' linear layers on int8
 * weights give image embeddings (the port's pixels, alone and in a batch) and text embeddings (the reference's padded
 * label sets) within cosine 0.999 of float32 on the tiny fixtures, say what was built and that both towers were
 * checked at load, and run on the CPU only; with the 7-bit weights of a CPU without VNNI, within 0.99.
 */
class ClipInt8Test {

    private static final BackendOptions FP32 = new BackendOptions(DeviceRequest.CPU, 2, 4);
    private static final BackendOptions INT8 = new BackendOptions(DeviceRequest.CPU, 2, 4, Precision.INT8);

    @BeforeAll
    static void readTinyClip() throws IOException {
        ClipOnnxBackendTest.read();
    }

    private static ModelFiles files(String fixture) {
        return fixture.equals("tiny-clip") ? ClipOnnxBackendTest.files(null) : TinySiglip.files();
    }

    private static JsonNode reference(String fixture) throws IOException {
        return new ObjectMapper().readTree(Fixtures.model(fixture).resolve("reference.json").toFile());
    }

    private static PixelBatch pixels(JsonNode reference, ClipConfig config, int from, int count) {
        int per = 3 * config.vision().imageHeight() * config.vision().imageWidth();
        java.nio.FloatBuffer buffer = java.nio.ByteBuffer.allocateDirect(count * per * Float.BYTES)
                .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        JsonNode values = reference.get("pixel_values_of_first_two");
        for (int i = from * per; i < (from + count) * per; i++) {
            buffer.put(values.get(i).floatValue());
        }
        return new PixelBatch(buffer.flip(), count, 3, config.vision().imageHeight(), config.vision().imageWidth());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-clip", "tiny-siglip"})
    void bothTowersStayWithinCosine0999OfFloat32(String fixture) throws Exception {
        ModelFiles model = files(fixture);
        ClipConfig config = model.clip().orElseThrow();
        JsonNode reference = reference(fixture);
        int d = config.projectionDim();
        double worstImage = 1;
        double worstText = 1;
        try (Backend fp32 = new OnnxBackendProvider().open(model, FP32);
             Backend int8 = new OnnxBackendProvider().open(model, INT8)) {
            assertEquals(Precision.INT8, int8.build().precision());
            assertEquals(Precision.FP32, fp32.build().precision());
            String operators = int8.build().operators();
            assertTrue(operators.contains("DynamicQuantizeMatMul"), operators);
            assertTrue(operators.contains("image tower checked at load against float32 on "), operators);
            assertTrue(operators.contains("text tower checked at load against float32 on 4 probe texts"), operators);
            int layers = config.vision().numLayers() + config.text().numLayers();
            assertTrue(int8.build().quantizedLayers().startsWith(6 * layers + " linear layers of the image and text"
                    + " encoders"), int8.build().quantizedLayers());
            Logits expected = fp32.infer(pixels(reference, config, 0, 2));
            Logits actual = int8.infer(pixels(reference, config, 0, 2));
            for (int i = 0; i < 2; i++) {
                double cosine = Logits.cosineSimilarity(expected.embedding(i), actual.embedding(i));
                worstImage = Math.min(worstImage, cosine);
                assertTrue(cosine >= 0.999, fixture + " image " + i + ": cosine " + cosine);
                float[] alone = int8.infer(pixels(reference, config, i, 1)).embedding(0);
                assertTrue(Logits.cosineSimilarity(actual.embedding(i), alone) >= 0.999, fixture + " image " + i
                        + " alone");
            }
            assertNotEquals(Arrays.toString(expected.embedding(0)), Arrays.toString(actual.embedding(0)),
                    "the int8 tower is another network than float32's");
            TextEncoder fp32Text = fp32.text().orElseThrow();
            TextEncoder int8Text = int8.text().orElseThrow();
            for (JsonNode set : reference.get("label_sets")) {
                JsonNode rows = set.get("input_ids");
                long[] ids = TinySiglip.longs(rows);
                int length = rows.get(0).size();
                float[] want = fp32Text.encode(ids, rows.size(), length);
                float[] got = int8Text.encode(ids, rows.size(), length);
                for (int r = 0; r < rows.size(); r++) {
                    double cosine = Logits.cosineSimilarity(Arrays.copyOfRange(want, r * d, (r + 1) * d),
                            Arrays.copyOfRange(got, r * d, (r + 1) * d));
                    worstText = Math.min(worstText, cosine);
                    assertTrue(cosine >= 0.999, fixture + " text '" + set.get("texts").get(r).asText() + "': cosine "
                            + cosine);
                }
            }
        }
        System.out.printf("ClipInt8Test %s: worst int8 cosine to fp32, image %.6f, text %.6f%n", fixture, worstImage,
                worstText);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-clip", "tiny-siglip"})
    void sevenBitWeightsOfACpuWithoutVnniStayWithinCosine099(String fixture) throws Exception {
        ModelFiles model = files(fixture);
        ClipConfig config = model.clip().orElseThrow();
        JsonNode reference = reference(fixture);
        Int8WeightRange reduced = Int8WeightRange.select("amd64", Optional.of("flags\t: avx2 avx512f\n"));
        try (Backend fp32 = new OnnxBackendProvider().open(model, FP32);
             Backend int8 = ClipOnnxBackend.open(model, INT8, new OrtCudaProbe(), reduced)) {
            assertTrue(int8.build().quantizedLayers().contains("7-bit (reduce_range)"), int8.build().quantizedLayers());
            Logits expected = fp32.infer(pixels(reference, config, 0, 2));
            Logits actual = int8.infer(pixels(reference, config, 0, 2));
            for (int i = 0; i < 2; i++) {
                assertTrue(Logits.cosineSimilarity(expected.embedding(i), actual.embedding(i)) >= 0.99, fixture);
            }
            JsonNode rows = reference.get("label_sets").get(0).get("input_ids");
            long[] ids = TinySiglip.longs(rows);
            float[] want = fp32.text().orElseThrow().encode(ids, rows.size(), rows.get(0).size());
            float[] got = int8.text().orElseThrow().encode(ids, rows.size(), rows.get(0).size());
            assertTrue(Logits.cosineSimilarity(want, got) >= 0.99, fixture);
        }
    }

    @Test
    void aGpuIsRefusedForInt8() {
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(
                files("tiny-clip"), new BackendOptions(DeviceRequest.parse("gpu:0"), 1, 1, Precision.INT8)));
        assertTrue(e.getMessage().startsWith("--precision int8 runs on the CPU only"), e.getMessage());
    }

    @Test
    void theTextProbeEndsWhereEachTowerPools() {
        ClipConfig legacy = ClipOnnxBackendTest.files(null).clip().orElseThrow();
        ClipConfig byEos = ClipOnnxBackendTest.files(7L).clip().orElseThrow();
        ClipConfig siglip = TinySiglip.files().clip().orElseThrow();
        for (ClipConfig config : new ClipConfig[] {legacy, byEos, siglip}) {
            int length = Int8SelfCheck.probeLength(config.text());
            assertEquals(Math.min(64, config.text().maxPositions()), length);
            long[] ids = Int8SelfCheck.probeTexts(config, Int8SelfCheck.PROBE_TEXTS);
            assertArrayEquals(ids, Int8SelfCheck.probeTexts(config, Int8SelfCheck.PROBE_TEXTS), "the same every run");
            assertArrayEquals(Arrays.copyOf(ids, length), Int8SelfCheck.probeTexts(config, 1), "the first text alone");
            long end = config.text().poolsAtLargestId() ? config.text().vocabSize() - 1 : config.text().eosTokenId();
            java.util.Set<Integer> ends = new java.util.HashSet<>();
            for (int r = 0; r < Int8SelfCheck.PROBE_TEXTS; r++) {
                int first = -1;
                for (int i = 0; i < length; i++) {
                    long id = ids[r * length + i];
                    assertTrue(id >= 0 && id < config.text().vocabSize(), "id " + id);
                    if (id == end && first < 0) {
                        first = i;
                    }
                    if (first >= 0) {
                        assertEquals(end, id, "only the pooled token after the end of text");
                    }
                }
                assertTrue(first > 0, "a text before its end");
                ends.add(first);
            }
            assertEquals(Int8SelfCheck.PROBE_TEXTS, ends.size(), "each text ends elsewhere");
        }
    }
}
