package dev.vitserve.api.arch;

import dev.vitserve.api.Architecture;
import java.util.List;

/**
 * An image classifier vitserve does not build, served from its ONNX export in Optimum's layout: {@code onnx/model.onnx}
 * (or {@code model.onnx}, where {@code optimum-cli export onnx} writes it) beside {@code config.json} and
 * {@code preprocessor_config.json}, taking {@code pixel_values} [batch, channels, height, width] and giving
 * {@code logits} [batch, labels]. Of config.json only the labels ({@code id2label}) and {@code num_channels} are read;
 * the image size is the image processor's, checked against the graph's fixed dims when it is opened. The embedding
 * width is not known from config.json: the backend finds it in the graph, when it finds the classifier's input.
 *
 * @param className the class config.json names in {@code architectures}, e.g. {@code ConvNextForImageClassification},
 *     or its {@code model_type} when it names none
 * @param modelType config.json's {@code model_type}, empty when it has none
 */
public record Exported(String className, String modelType) implements Architecture {

    /** Where an exported network is looked for, relative to the model folder, in order. */
    public static final List<String> FILES = List.of("onnx/model.onnx", "model.onnx");

    public Exported {
        java.util.Objects.requireNonNull(className, "className");
        java.util.Objects.requireNonNull(modelType, "modelType");
    }

    /** Not known from config.json: 0, and the backend says the width it found ({@code Backend.embeddingSize()}). */
    @Override
    public int embeddingSize(int hiddenSize) {
        return 0;
    }

    @Override
    public boolean exported() {
        return true;
    }

    @Override
    public String describe() {
        return "exported ONNX: " + className;
    }
}
