package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.TextEncoder;
import dev.vitserve.testkit.TinySiglip;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * SigLIP's towers built from the tiny-siglip fixture's safetensors give the PyTorch port's image embeddings (the
 * attention pooling head's output) and text embeddings (the last position through the text head) within 1e-4, and
 * {@code exp(logit_scale) * cos + logit_bias} of them gives the port's logits_per_image within 1e-4, their sigmoid
 * its scores.
 */
class SiglipDjlBackendTest {

    private static final BackendOptions CPU = new BackendOptions(DeviceRequest.CPU, 2, 4);
    private static final int D = TinySiglip.DIMENSIONS;

    @Test
    void embeddingsAndLogitsAreThePorts() throws BackendException {
        JsonNode reference = TinySiglip.reference();
        double scale = reference.get("logit_scale").asDouble();
        double bias = reference.get("logit_bias").asDouble();
        double worst = 0;
        try (Backend backend = new DjlBackendProvider().open(TinySiglip.files(), CPU)) {
            assertTrue(backend.embeds());
            Logits batch = backend.infer(TinySiglip.pixels(0, 2));
            assertEquals(D, batch.hiddenSize());
            float[][] images = new float[2][];
            for (int i = 0; i < 2; i++) {
                float[] expected = TinySiglip.floats(reference.get("image_embeds").get(i));
                images[i] = batch.embedding(i);
                assertArrayEquals(expected, images[i], 1e-4f, "image " + i);
                assertArrayEquals(expected, backend.infer(TinySiglip.pixels(i, 1)).embedding(0), 1e-4f,
                        "image " + i + " alone");
            }
            TextEncoder text = backend.text().orElseThrow();
            assertEquals(D, text.dimensions());
            for (JsonNode set : reference.get("label_sets")) {
                JsonNode rows = set.get("input_ids");
                assertEquals(64, rows.get(0).size());
                float[] embeds = text.encode(TinySiglip.longs(rows), rows.size(), 64);
                for (int r = 0; r < rows.size(); r++) {
                    float[] row = Arrays.copyOfRange(embeds, r * D, (r + 1) * D);
                    assertArrayEquals(TinySiglip.floats(set.get("text_embeds").get(r)), row, 1e-4f,
                            set.get("texts").get(r).asText());
                    for (int i = 0; i < 2; i++) {
                        double logit = TinySiglip.logit(images[i], row, scale, bias);
                        double expected = set.get("logits_per_image").get(i).get(r).asDouble();
                        assertEquals(expected, logit, 1e-4, "logit of image " + i + ", text " + r);
                        assertEquals(set.get("scores").get(i).get(r).asDouble(), 1 / (1 + Math.exp(-logit)), 1e-4);
                        worst = Math.max(worst, Math.abs(expected - logit));
                    }
                }
            }
        }
        System.out.printf("SiglipDjlBackendTest: largest logit difference %.3g%n", worst);
    }
}
