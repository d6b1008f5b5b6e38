package dev.vitserve.backend.djl;

import ai.djl.pytorch.jni.JniUtils;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * By hand, not a test: libtorch's profiler over a few batches of the ViT built in a precision, written as a Chrome
 * trace. Arguments: the model folder, the precision (fp32 or bf16), the batch size, the trace file.
 */
public final class HalfPrecisionProfile {

    private HalfPrecisionProfile() {
    }

    public static void main(String[] args) throws Exception {
        Path folder = Paths.get(args[0]);
        VitConfig config = FixtureModels.config(folder);
        Path empty = Files.createTempDirectory("vitserve-profile");
        try (Backend backend = new DjlBackendProvider().open(FixtureModels.withWeights("profiled", empty, config,
                folder.resolve("model.safetensors")), new BackendOptions(DeviceRequest.CPU, 2, 8,
                Precision.parse(args[1])))) {
            PixelBatch batch = FixtureModels.pixels(config, 0, Integer.parseInt(args[2]));
            backend.infer(batch);
            JniUtils.startProfile(false, true, false);
            for (int i = 0; i < 3; i++) {
                backend.infer(batch);
            }
            JniUtils.stopProfile(args[3]);
        } finally {
            Files.delete(empty);
        }
    }
}
