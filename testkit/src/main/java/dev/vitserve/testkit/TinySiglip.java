package dev.vitserve.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The tiny-siglip fixture for backend tests: its config.json read by hand (as core's loader reads it), the port's
 * pixels of the first two images, and reference.json (testkit/tools/siglip-fixture.py).
 */
public final class TinySiglip {

    /** The image side and the embedding width of the fixture. */
    public static final int IMAGE = 30;
    public static final int DIMENSIONS = 20;

    private TinySiglip() {
    }

    /** reference.json. */
    public static JsonNode reference() {
        return read("reference.json");
    }

    /** The model's files as the loader would give them to a backend. */
    public static ModelFiles files() {
        JsonNode config = read("config.json");
        JsonNode v = config.get("vision_config");
        JsonNode t = config.get("text_config");
        int width = v.get("hidden_size").asInt();
        VitConfig vision = new VitConfig(v.get("image_size").asInt(), v.get("image_size").asInt(), 3,
                v.get("patch_size").asInt(), width, v.get("num_hidden_layers").asInt(),
                v.get("num_attention_heads").asInt(), v.get("intermediate_size").asInt(),
                v.get("layer_norm_eps").asDouble(), true, width, v.get("hidden_act").asText());
        ClipConfig.Text text = new ClipConfig.Text(t.get("vocab_size").asInt(), t.get("hidden_size").asInt(),
                t.get("num_hidden_layers").asInt(), t.get("num_attention_heads").asInt(),
                t.get("intermediate_size").asInt(), t.get("max_position_embeddings").asInt(),
                t.get("layer_norm_eps").asDouble(), t.get("hidden_act").asText(), t.get("eos_token_id").asLong());
        Path folder = Fixtures.tinySiglip();
        return new ModelFiles("tiny-siglip", folder, vision,
                Optional.of(TestSafetensors.open(folder.resolve("model.safetensors"))),
                Optional.of(new ClipConfig(vision, text, t.get("projection_size").asInt(), ClipConfig.Family.SIGLIP)));
    }

    /** The port's pixel values of images {@code from .. from + count - 1} (of the first two). */
    public static PixelBatch pixels(int from, int count) {
        JsonNode values = reference().get("pixel_values_of_first_two");
        int per = 3 * IMAGE * IMAGE;
        FloatBuffer buffer = ByteBuffer.allocateDirect(count * per * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        for (int i = from * per; i < (from + count) * per; i++) {
            buffer.put(values.get(i).floatValue());
        }
        return new PixelBatch(buffer.flip(), count, 3, IMAGE, IMAGE);
    }

    public static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).floatValue();
        }
        return values;
    }

    /** Rows of ids, row-major. */
    public static long[] longs(JsonNode rows) {
        int length = rows.get(0).size();
        long[] ids = new long[rows.size() * length];
        for (int r = 0; r < rows.size(); r++) {
            for (int i = 0; i < length; i++) {
                ids[r * length + i] = rows.get(r).get(i).asLong();
            }
        }
        return ids;
    }

    /** {@code exp(logit_scale) * cos(a, b) + logit_bias}, as SiglipModel's logits. */
    public static double logit(float[] a, float[] b, double logitScale, double logitBias) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return Math.exp(logitScale) * dot / Math.sqrt(na * nb) + logitBias;
    }

    private static JsonNode read(String file) {
        try {
            return new ObjectMapper().readTree(Fixtures.tinySiglip().resolve(file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
