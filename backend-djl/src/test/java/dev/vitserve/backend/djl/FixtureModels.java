package dev.vitserve.backend.djl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Optional;

/** The fixture models (and others in the Hugging Face layout) as the backend sees them, and pixels of any shape. */
final class FixtureModels {

    private FixtureModels() {
    }

    /** The shape config.json of a model folder describes (the fields the backend uses). */
    static VitConfig config(Path folder) {
        JsonNode json = Fixtures.json(folder.resolve("config.json"));
        int imageSize = json.get("image_size").asInt();
        return new VitConfig(imageSize, imageSize, json.path("num_channels").asInt(3), json.get("patch_size").asInt(),
                json.get("hidden_size").asInt(), json.get("num_hidden_layers").asInt(),
                json.get("num_attention_heads").asInt(), json.get("intermediate_size").asInt(),
                json.get("layer_norm_eps").asDouble(), json.path("qkv_bias").asBoolean(true), json.get("id2label").size(),
                json.path("hidden_act").asText("gelu"));
    }

    /** The fixture model as a folder with only its TorchScript model.pt to run. */
    static ModelFiles torchScript(String name) {
        Path folder = Fixtures.model(name);
        return new ModelFiles(name, folder, config(folder));
    }

    /**
     * The fixture model seen from a folder without model.pt (so the network is built from the weights), with the
     * tensors of its model.safetensors.
     */
    static ModelFiles safetensors(String name, Path folderWithoutTorchScript) {
        return safetensors(name, folderWithoutTorchScript, config(Fixtures.model(name)),
                Fixtures.model(name).resolve("model.safetensors"));
    }

    static ModelFiles safetensors(String name, Path folder, VitConfig config, Path weightsFile) {
        return new ModelFiles(name, folder, config, Optional.of(TestSafetensors.open(weightsFile)));
    }

    /**
     * Images {@code first .. first+count-1} of a model's input shape, made as testkit's TinyVit makes them:
     * x[n,c,h,w] = ((n*7 + c*13 + h*3 + w*5) % 17 - 8) / 8.
     */
    static PixelBatch pixels(VitConfig config, int first, int count) {
        int channels = config.numChannels();
        int height = config.imageHeight();
        int width = config.imageWidth();
        FloatBuffer buffer = ByteBuffer.allocateDirect(count * channels * height * width * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int n = first; n < first + count; n++) {
            for (int c = 0; c < channels; c++) {
                for (int h = 0; h < height; h++) {
                    for (int w = 0; w < width; w++) {
                        buffer.put(((n * 7 + c * 13 + h * 3 + w * 5) % 17 - 8) / 8.0f);
                    }
                }
            }
        }
        buffer.flip();
        return new PixelBatch(buffer, count, channels, height, width);
    }
}
