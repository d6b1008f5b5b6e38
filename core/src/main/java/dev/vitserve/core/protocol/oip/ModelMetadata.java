package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.registry.ServingModel;
import dev.vitserve.core.inference.InferenceScheduler.TensorShape;
import dev.vitserve.core.model.Task;
import java.util.List;

/**
 * What the Open Inference Protocol's model metadata says of a served model: its one version, the
 * platform, the two inputs it takes (either one per request) and its outputs; the batch
 * dimension is -1; over REST also its architecture, processor and precision ({@code fp32} or {@code int8}, as
 * {@code /v1/models} says), which the gRPC message has no field for. A zero-shot model also takes {@code text} (its candidate labels, beside an image or alone) and
 * answers {@code probabilities}, {@code logits_per_image} (both [N,L]), {@code image_embeds} and {@code text_embeds}.
 */
public record ModelMetadata(String name, List<String> versions, String platform, List<Tensor> inputs,
                            List<Tensor> outputs, String architecture, String processor, String precision) {

    /** vitserve's only version of a model. */
    public static final String VERSION = "1";
    /** The preprocessed input: FP32 [N,3,H,W], normalized as the model's preprocessor_config.json says. */
    public static final String PIXEL_VALUES = "pixel_values";
    /** The encoded-image input: BYTES [N] or [N,1], JPEG, PNG, GIF, BMP or WebP files. */
    public static final String IMAGE = "image";
    public static final String LOGITS = "logits";
    /** The logits through the model's score function (softmax, or sigmoid for multi-label models). */
    public static final String PROBABILITIES = "probabilities";
    /** A zero-shot model's texts: BYTES [L] or [L,1], the candidate labels (UTF-8), put in the template. */
    public static final String TEXT = "text";
    /** A zero-shot model's softmax over the labels, FP32 [N,L]. */
    public static final String LOGITS_PER_IMAGE = "logits_per_image";
    /** A zero-shot model's projected image embeddings, FP32 [N,projection_dim]. */
    public static final String IMAGE_EMBEDS = "image_embeds";
    /** A zero-shot model's projected text embeddings, FP32 [L,projection_dim]. */
    public static final String TEXT_EMBEDS = "text_embeds";
    /** The outputs of a zero-shot model, in the order they are answered when a request names none. */
    public static final List<String> ZERO_SHOT_OUTPUTS = List.of(PROBABILITIES, LOGITS_PER_IMAGE, IMAGE_EMBEDS,
            TEXT_EMBEDS);
    /** The vector the classifier reads (the final-layernormed class token for ViT), when the model's engine gives it. */
    public static final String EMBEDDINGS = "embeddings";

    /** One tensor's name, datatype and shape (-1 for a variable dimension). */
    public record Tensor(String name, String datatype, List<Long> shape) {
    }

    /** The outputs the model has, in the order they are answered when a request names none. */
    public static List<String> outputNames(ServingModel serving) {
        if (serving.task() == Task.ZERO_SHOT_IMAGE_CLASSIFICATION) {
            return ZERO_SHOT_OUTPUTS;
        }
        return serving.backend().embeds() ? List.of(LOGITS, PROBABILITIES, EMBEDDINGS) : List.of(LOGITS, PROBABILITIES);
    }

    /** The metadata of the served model. */
    public static ModelMetadata of(String name, ServingModel serving) {
        TensorShape image = serving.pipeline().tensorShape();
        if (serving.task() == Task.ZERO_SHOT_IMAGE_CLASSIFICATION) {
            long d = serving.embeddingSize();
            return new ModelMetadata(name, List.of(VERSION), platform(serving.backendId()),
                    List.of(new Tensor(PIXEL_VALUES, "FP32", List.of(-1L, (long) image.channels(), (long) image.height(),
                                    (long) image.width())),
                            new Tensor(IMAGE, "BYTES", List.of(-1L)),
                            new Tensor(TEXT, "BYTES", List.of(-1L))),
                    List.of(new Tensor(PROBABILITIES, "FP32", List.of(-1L, -1L)),
                            new Tensor(LOGITS_PER_IMAGE, "FP32", List.of(-1L, -1L)),
                            new Tensor(IMAGE_EMBEDS, "FP32", List.of(-1L, d)),
                            new Tensor(TEXT_EMBEDS, "FP32", List.of(-1L, d))),
                    serving.architecture(), serving.model().preprocessing().processor().className(), precision(serving));
        }
        long labels = serving.pipeline().numLabels();
        return new ModelMetadata(name, List.of(VERSION), platform(serving.backendId()),
                List.of(new Tensor(PIXEL_VALUES, "FP32", List.of(-1L, (long) image.channels(), (long) image.height(),
                                (long) image.width())),
                        new Tensor(IMAGE, "BYTES", List.of(-1L))),
                outputNames(serving).stream().map(output -> new Tensor(output, "FP32", List.of(-1L,
                        output.equals(EMBEDDINGS) ? serving.embeddingSize() : labels))).toList(),
                serving.architecture(),
                serving.model().preprocessing().processor().className(), precision(serving));
    }

    /** The number format the model's network runs in, as {@code /v1/models} says it. */
    private static String precision(ServingModel serving) {
        return serving.backend().build().precision().id();
    }

    /** Triton's platform names for the engines vitserve runs; a plug-in backend is named by its id. */
    private static String platform(String backendId) {
        return switch (backendId) {
            case "onnx" -> "onnxruntime_onnx";
            case "djl" -> "pytorch_libtorch";
            default -> backendId;
        };
    }
}
