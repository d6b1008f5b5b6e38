package dev.vitserve.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import java.nio.file.Path;

/** The tiny ViT fixture, the deterministic inputs of {@code testkit/tools/backend-expected.py} and their logits. */
public final class TinyVit {

    public static final int SIZE = 224;
    public static final int CHANNELS = 3;
    public static final int LABELS = 10;

    private TinyVit() {
    }

    /** config.json of the fixture, with another number of labels if asked. */
    public static VitConfig config(int numLabels) {
        return new VitConfig(SIZE, SIZE, CHANNELS, 16, 32, 2, 4, 64, 1e-12, true, numLabels);
    }

    public static ModelFiles model() {
        return new ModelFiles("tiny-vit", Fixtures.tinyVit(), config(LABELS));
    }

    public static ModelFiles modelIn(Path directory) {
        return new ModelFiles("tiny-vit", directory, config(LABELS));
    }

    /** Images {@code first .. first+count-1}, as {@link FixtureModels#pixels} makes them. */
    public static PixelBatch pixels(int first, int count) {
        return FixtureModels.pixels(config(LABELS), first, count);
    }

    /** PyTorch's logits for images 0, 1 and 2. */
    public static float[][] expectedLogits() {
        JsonNode rows = Fixtures.json(Fixtures.root().resolve("backend").resolve("expected-logits.json")).get("logits");
        float[][] logits = new float[rows.size()][];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = new float[rows.get(i).size()];
            for (int j = 0; j < logits[i].length; j++) {
                logits[i][j] = (float) rows.get(i).get(j).asDouble();
            }
        }
        return logits;
    }
}
