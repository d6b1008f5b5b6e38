package dev.vitserve.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Architectures;
import dev.vitserve.api.arch.ConfigValues;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The fixture ViTs as the backends' tests need them: their shape, pixel batches, and folders with only weights. */
public final class FixtureModels {

    private static final ObjectMapper JSON = new ObjectMapper();

    private FixtureModels() {
    }

    /**
     * A model folder's config.json, read as core reads it: by the architecture's own reader, with the input size of
     * preprocessor_config.json for an architecture that interpolates its position embeddings.
     */
    @SuppressWarnings("unchecked")
    public static VitConfig config(Path directory) {
        JsonNode c = Fixtures.json(directory.resolve("config.json"));
        ConfigValues values = new ConfigValues(JSON.convertValue(c, Map.class));
        Architectures.Entry entry = Architectures.choose(values)
                .orElseThrow(() -> new IllegalArgumentException(directory + " is of no supported architecture"));
        VitConfig config = entry.reader().read(values, c.get("id2label").size());
        if (config.architecture().interpolatesPositions()) {
            JsonNode size = Fixtures.json(directory.resolve("preprocessor_config.json")).get("size");
            config = config.withImageSize(size.get("height").asInt(), size.get("width").asInt());
        }
        return config;
    }

    /** The fixture model as it is: exported networks (onnx/model.onnx, model.pt), no weights handed over. */
    public static ModelFiles files(String name) {
        Path directory = Fixtures.model(name);
        return new ModelFiles(name, directory, config(directory));
    }

    /**
     * A copy of the fixture folder in {@code target} without any exported network (config.json,
     * preprocessor_config.json and model.safetensors), so the backend has to build the network.
     */
    public static ModelFiles weightsOnly(String name, Path target) {
        Path source = Fixtures.model(name);
        try {
            Files.copy(source.resolve("config.json"), target.resolve("config.json"));
            Files.copy(source.resolve("preprocessor_config.json"), target.resolve("preprocessor_config.json"));
            Files.copy(source.resolve("model.safetensors"), target.resolve("model.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return withWeights(name, target, config(source));
    }

    /**
     * The fixture model seen from another folder (say, one without exported networks, so the backend builds
     * the network), with the tensors of the fixture's own model.safetensors.
     */
    public static ModelFiles withWeights(String name, Path folder) {
        return withWeights(name, folder, config(Fixtures.model(name)), Fixtures.model(name).resolve("model.safetensors"));
    }

    /** A folder's model.safetensors as the weights of a model with the given config. */
    public static ModelFiles withWeights(String name, Path directory, VitConfig config) {
        return withWeights(name, directory, config, directory.resolve("model.safetensors"));
    }

    /** A folder whose weights come from the given safetensors file. */
    public static ModelFiles withWeights(String name, Path directory, VitConfig config, Path weightsFile) {
        return new ModelFiles(name, directory, config, Optional.of(TestSafetensors.open(weightsFile)));
    }

    /**
     * Images {@code first .. first+count-1} of a model's input shape: x[n,c,h,w] = ((n*7 + c*13 + h*3 + w*5) % 17 - 8) / 8,
     * exact in float32 and easy to make again in Python ({@code testkit/tools/backend-expected.py}).
     */
    public static PixelBatch pixels(VitConfig config, int first, int count) {
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
        return new PixelBatch(buffer.flip(), count, channels, height, width);
    }
}
