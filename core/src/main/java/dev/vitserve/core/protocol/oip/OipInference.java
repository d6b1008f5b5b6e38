package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.model.TextTower;
import dev.vitserve.core.registry.ServingModel;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.image.RequestPixels;
import dev.vitserve.core.inference.ClassificationPipeline;
import dev.vitserve.core.inference.InferenceResult;
import dev.vitserve.core.inference.InferenceScheduler.TensorShape;
import dev.vitserve.core.inference.Postprocessor;
import dev.vitserve.core.inference.ZeroShotScores;
import dev.vitserve.core.model.Task;
import dev.vitserve.core.protocol.ZeroShot;
import dev.vitserve.core.protocol.ZeroShotLabels;
import dev.vitserve.core.protocol.oip.InferenceRequest.Input;
import dev.vitserve.core.protocol.oip.InferenceRequest.RequestedOutput;
import dev.vitserve.core.protocol.oip.InferenceResponse.Output;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Runs an Open Inference Protocol request, REST's or gRPC's, through the model's one pipeline:
 * encoded images (BYTES) are decoded and preprocessed as {@code /v1/classify} does, preprocessed
 * {@code pixel_values} go straight to the scheduler. Every check on the request happens before
 * any image is decoded; a bad request is an {@link ApiException} (400, 413) naming what is wrong.
 */
public final class OipInference {

    private final int maxImages;
    private final long maxRequestPixels;

    /**
     * @param maxImages the most images one request may carry, as for a multipart classify request
     * @param maxRequestPixels the most pixels one request's encoded images may have together, as for classify
     */
    public OipInference(int maxImages, long maxRequestPixels) {
        this.maxImages = maxImages;
        this.maxRequestPixels = maxRequestPixels;
    }

    /** Checks the request, runs its images and answers the outputs asked for. */
    public Future<InferenceResponse> infer(String modelName, ServingModel serving, InferenceRequest request) {
        if (serving.task() == Task.ZERO_SHOT_IMAGE_CLASSIFICATION) {
            return zeroShot(modelName, serving, request);
        }
        if (request.inputs().stream().anyMatch(input -> input.name().equals(ModelMetadata.TEXT))) {
            return Future.failedFuture(new dev.vitserve.core.model.WrongTaskException("model '" + modelName
                    + "' is an image classifier with its own labels: it takes no '" + ModelMetadata.TEXT
                    + "' input; send '" + ModelMetadata.IMAGE + "' or '" + ModelMetadata.PIXEL_VALUES
                    + "', or serve a CLIP model for zero-shot"));
        }
        List<Future<InferenceResult>> images;
        List<RequestedOutput> outputs;
        try {
            outputs = outputs(request.outputs(), request.binaryByDefault(), ModelMetadata.outputNames(serving),
                    ModelMetadata.defaultOutputNames(serving));
            boolean rollout = outputs.stream().anyMatch(output -> output.name().equals(ModelMetadata.ATTENTION_ROLLOUT));
            ClassificationPipeline pipeline = serving.pipeline();
            images = run(single(request.inputs()), pipeline, pixels -> pipeline.logitsOfTensor(pixels, rollout),
                    (bytes, allowance) -> pipeline.logits(bytes, allowance, rollout));
        } catch (ApiException e) {
            return Future.failedFuture(e);
        }
        return Future.all(images).map(all -> {
            List<InferenceResult> results = all.list();
            List<Output> answered = new ArrayList<>();
            for (RequestedOutput output : outputs) {
                answered.add(output(output, results, serving));
            }
            return new InferenceResponse(modelName, ModelMetadata.VERSION, request.id(), answered);
        });
    }

    private static Input single(List<Input> inputs) {
        if (inputs.size() != 1) {
            throw ApiException.badRequest("invalid_tensor", "send exactly one input, '" + ModelMetadata.PIXEL_VALUES
                    + "' (FP32 [N,3,H,W]) or '" + ModelMetadata.IMAGE + "' (BYTES [N], encoded images); this request has "
                    + inputs.size());
        }
        return inputs.get(0);
    }

    /** The images of an image input, each through {@code tensor} (pixel_values) or {@code encoded} (image). */
    private List<Future<InferenceResult>> run(Input input, ClassificationPipeline pipeline,
                                              Function<float[], Future<InferenceResult>> tensor,
                                              BiFunction<byte[], RequestPixels, Future<InferenceResult>> encoded) {
        TensorShape image = pipeline.tensorShape();
        switch (input.name()) {
            case ModelMetadata.PIXEL_VALUES -> {
                expectDatatype(input, "FP32");
                long[] shape = input.shape();
                if (shape.length != 4 || shape[1] != image.channels() || shape[2] != image.height()
                        || shape[3] != image.width()) {
                    throw ApiException.badRequest("invalid_tensor", "input 'pixel_values' has shape "
                            + Arrays.toString(shape) + "; this model takes [N," + image.channels() + ","
                            + image.height() + "," + image.width() + "]");
                }
                int n = batch(shape[0]);
                expectCount(input, input.floats().length);
                List<Future<InferenceResult>> results = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    results.add(tensor.apply(
                            Arrays.copyOfRange(input.floats(), i * image.length(), (i + 1) * image.length())));
                }
                return results;
            }
            case ModelMetadata.IMAGE -> {
                expectDatatype(input, "BYTES");
                long[] shape = input.shape();
                if (shape.length == 0 || shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
                    throw ApiException.badRequest("invalid_tensor", "input 'image' has shape " + Arrays.toString(shape)
                            + "; it takes [N] or [N,1] encoded images");
                }
                batch(shape[0]);
                expectCount(input, input.elements().size());
                RequestPixels pixels = pixels(input.elements(), pipeline);
                List<Future<InferenceResult>> results = new ArrayList<>();
                for (int i = 0; i < input.elements().size(); i++) {
                    String which = "image " + i;
                    results.add(encoded.apply(input.elements().get(i), pixels).recover(failure -> Future.failedFuture(
                            about(failure, which))));
                }
                return results;
            }
            default -> throw ApiException.badRequest("invalid_tensor", "unknown input '" + input.name()
                    + "'; this model takes '" + ModelMetadata.PIXEL_VALUES + "' (FP32 [N," + image.channels() + ","
                    + image.height() + "," + image.width() + "]) or '" + ModelMetadata.IMAGE
                    + "' (BYTES [N], encoded images)");
        }
    }

    /** The request's pixel allowance, after checking that its images' headers do not already exceed it. */
    private RequestPixels pixels(List<byte[]> images, ClassificationPipeline pipeline) {
        RequestPixels pixels = new RequestPixels(maxRequestPixels);
        long announced = 0;
        for (byte[] image : images) {
            announced += pipeline.announcedPixels(image);
        }
        try {
            pixels.checkAnnounced(announced);
        } catch (ImageDecodeException e) {
            throw ErrorResponses.fromFailure(e);
        }
        return pixels;
    }

    private static Throwable about(Throwable failure, String which) {
        ApiException known = ErrorResponses.fromFailure(failure);
        return known != null ? known.about(which) : failure;
    }

    private static void expectDatatype(Input input, String datatype) {
        if (!datatype.equals(input.datatype())) {
            throw ApiException.badRequest("invalid_datatype", "input '" + input.name() + "' must be " + datatype
                    + ", not " + input.datatype());
        }
    }

    private int batch(long n) {
        if (n < 1) {
            throw ApiException.badRequest("invalid_tensor", "the batch dimension must be at least 1, got " + n);
        }
        if (n > maxImages) {
            throw ApiException.tooLarge("too_many_images", "the request holds " + n
                    + " images; this server takes at most " + maxImages + " per request (--max-files)");
        }
        return (int) n;
    }

    /** The shape's element count equals the data's; dimensions are checked non-negative first. */
    private static void expectCount(Input input, long count) {
        long product = 1;
        for (long dimension : input.shape()) {
            if (dimension < 0) {
                throw ApiException.badRequest("invalid_tensor", "input '" + input.name() + "' has a negative dimension "
                        + "in its shape " + Arrays.toString(input.shape()));
            }
            product = dimension == 0 || product <= Long.MAX_VALUE / dimension ? product * dimension : Long.MAX_VALUE;
        }
        if (product != count) {
            throw ApiException.badRequest("invalid_tensor", "input '" + input.name() + "' has shape "
                    + Arrays.toString(input.shape()) + " (" + product + " elements) but its data holds " + count);
        }
    }

    /** The outputs asked for, checked, or every output when none is named. */
    private static List<RequestedOutput> outputs(List<RequestedOutput> asked, boolean binaryByDefault, List<String> names) {
        return outputs(asked, binaryByDefault, names, names);
    }

    /** As above, {@code defaults} answered when none is named. */
    private static List<RequestedOutput> outputs(List<RequestedOutput> asked, boolean binaryByDefault, List<String> names,
                                                 List<String> defaults) {
        if (asked.isEmpty()) {
            return defaults.stream().map(name -> new RequestedOutput(name, 0, binaryByDefault)).toList();
        }
        Map<String, RequestedOutput> byName = new LinkedHashMap<>();
        for (RequestedOutput output : asked) {
            if (!names.contains(output.name())) {
                throw ApiException.badRequest("invalid_tensor", "unknown output '" + output.name() + "'; this model has "
                        + String.join(", ", names) + (output.name().equals(ModelMetadata.EMBEDDINGS) ? " (its engine runs an "
                        + "exported network, which gives no embeddings; they come from the network vitserve builds from "
                        + "model.safetensors)" : ""));
            }
            if (output.classification() > 0 && (output.name().equals(ModelMetadata.EMBEDDINGS)
                    || output.name().equals(ModelMetadata.ATTENTION_ROLLOUT))) {
                throw ApiException.badRequest("invalid_parameter", "output '" + output.name() + "': classification"
                        + " applies to " + ModelMetadata.LOGITS + " and " + ModelMetadata.PROBABILITIES);
            }
            if (output.classification() < 0) {
                throw ApiException.badRequest("invalid_parameter", "output '" + output.name()
                        + "': classification must be a whole number of at least 1");
            }
            byName.put(output.name(), output);
        }
        return List.copyOf(byName.values());
    }

    private static Output output(RequestedOutput asked, List<InferenceResult> results, ServingModel serving) {
        int labels = serving.pipeline().numLabels();
        int width = (int) ModelMetadata.width(asked.name(), serving);
        float[] values = new float[results.size() * width];
        for (int i = 0; i < results.size(); i++) {
            float[] row = switch (asked.name()) {
                case ModelMetadata.PROBABILITIES -> probabilities(results.get(i).logits(), serving);
                case ModelMetadata.EMBEDDINGS -> results.get(i).embedding();
                case ModelMetadata.ATTENTION_ROLLOUT -> results.get(i).rollout();
                default -> results.get(i).logits();
            };
            System.arraycopy(row, 0, values, i * width, width);
        }
        if (asked.classification() == 0) {
            return new Output(asked.name(), "FP32", new long[] {results.size(), width}, values, null, asked.binary());
        }
        int k = Math.min(asked.classification(), labels);
        List<byte[]> classes = new ArrayList<>(results.size() * k);
        Postprocessor labelling = serving.pipeline().postprocessor();
        for (int i = 0; i < results.size(); i++) {
            int row = i * labels;
            Integer[] order = new Integer[labels];
            Arrays.setAll(order, j -> j);
            Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -values[row + j]));
            for (int r = 0; r < k; r++) {
                int j = order[r];
                // Triton's form: the value as C's std::to_string prints it (6 decimals), the index, the label
                classes.add(String.format(Locale.ROOT, "%f:%d:%s", values[row + j], j, labelling.label(j))
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        return new Output(asked.name(), "BYTES", new long[] {results.size(), k}, null, classes, asked.binary());
    }

    /**
     * A zero-shot model's request: an image input ({@code image} or {@code pixel_values}) and {@code text} (the
     * candidate labels, put in the request's {@code hypothesis_template} parameter or Hugging Face's default), either
     * or both, through the same zero-shot path as {@code /v1/models/{name}/zero-shot}. Image and text answer every
     * output; text alone {@code text_embeds}; an image alone {@code image_embeds}.
     */
    private Future<InferenceResponse> zeroShot(String modelName, ServingModel serving, InferenceRequest request) {
        Input image = null;
        Input text = null;
        for (Input input : request.inputs()) {
            boolean isText = input.name().equals(ModelMetadata.TEXT);
            if (!isText && !input.name().equals(ModelMetadata.IMAGE) && !input.name().equals(ModelMetadata.PIXEL_VALUES)) {
                return Future.failedFuture(ApiException.badRequest("invalid_tensor", "unknown input '" + input.name()
                        + "'; this zero-shot model takes '" + ModelMetadata.IMAGE + "' (BYTES [N], encoded images) or '"
                        + ModelMetadata.PIXEL_VALUES + "' (FP32 [N,3,H,W]), and '" + ModelMetadata.TEXT
                        + "' (BYTES [L], the candidate labels)"));
            }
            if (isText ? text != null : image != null) {
                return Future.failedFuture(ApiException.badRequest("invalid_tensor", "send at most one image input ('"
                        + ModelMetadata.IMAGE + "' or '" + ModelMetadata.PIXEL_VALUES + "') and one '"
                        + ModelMetadata.TEXT + "' input"));
            }
            if (isText) {
                text = input;
            } else {
                image = input;
            }
        }
        if (image == null && text == null) {
            return Future.failedFuture(ApiException.badRequest("invalid_tensor", "send an image input ('"
                    + ModelMetadata.IMAGE + "' or '" + ModelMetadata.PIXEL_VALUES + "'), a '" + ModelMetadata.TEXT
                    + "' input (the candidate labels), or both"));
        }
        List<String> available = image != null && text != null ? ModelMetadata.ZERO_SHOT_OUTPUTS
                : image != null ? List.of(ModelMetadata.IMAGE_EMBEDS) : List.of(ModelMetadata.TEXT_EMBEDS);
        List<RequestedOutput> outputs;
        ZeroShotLabels labels;
        List<Future<InferenceResult>> images;
        try {
            ZeroShot.requireText(serving, "zero-shot classification");
            outputs = zeroShotOutputs(request, available, image != null, text != null);
            labels = text == null ? null : ZeroShotLabels.of(texts(text), request.template());
            ClassificationPipeline pipeline = serving.pipeline();
            images = image == null ? List.of() : run(image, pipeline, pipeline::embeddingOfTensor,
                    pipeline::embeddingResult);
        } catch (ApiException | dev.vitserve.core.model.WrongTaskException e) {
            return Future.failedFuture(e);
        }
        Future<List<InferenceResult>> embedded = Future.all(images).map(all -> all.<InferenceResult>list());
        if (labels == null) {
            return embedded.map(results -> new InferenceResponse(modelName, ModelMetadata.VERSION, request.id(),
                    List.of(matrix(outputs.get(0), results.stream().map(InferenceResult::embedding).toList(),
                            serving.embeddingSize()))));
        }
        if (image == null) {
            return serving.text().orElseThrow().embed(labels.texts()).map(texts -> new InferenceResponse(modelName,
                    ModelMetadata.VERSION, request.id(), List.of(matrix(outputs.get(0),
                            Arrays.asList(texts.vectors()), serving.embeddingSize()))));
        }
        ZeroShotLabels scoredLabels = labels;
        return ZeroShot.score(serving, labels, embedded, InferenceResult::embedding).map(answer -> {
            List<Output> answered = new ArrayList<>();
            for (RequestedOutput output : outputs) {
                answered.add(zeroShotOutput(output, answer, scoredLabels, serving.embeddingSize(),
                        serving.model().text().orElseThrow()));
            }
            return new InferenceResponse(modelName, ModelMetadata.VERSION, request.id(), answered);
        });
    }

    /** The candidate labels of a {@code text} input: BYTES [L] or [L,1] of UTF-8, within the zero-shot bounds. */
    private static List<String> texts(Input text) {
        expectDatatype(text, "BYTES");
        long[] shape = text.shape();
        if (shape.length == 0 || shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
            throw ApiException.badRequest("invalid_tensor", "input 'text' has shape " + Arrays.toString(shape)
                    + "; it takes [L] or [L,1] texts, the candidate labels");
        }
        if (shape[0] > ZeroShotLabels.MAX_LABELS) {
            throw ApiException.tooLarge("too_many_labels", "input 'text' holds " + shape[0] + " labels; this server"
                    + " takes at most " + ZeroShotLabels.MAX_LABELS + " per request");
        }
        expectCount(text, text.elements().size());
        if (text.elements().isEmpty()) {
            throw ApiException.badRequest("no_labels", "input 'text' is empty: give at least one label");
        }
        List<String> texts = new ArrayList<>(text.elements().size());
        java.nio.charset.CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
        for (int i = 0; i < text.elements().size(); i++) {
            try {
                texts.add(utf8.decode(java.nio.ByteBuffer.wrap(text.elements().get(i))).toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                throw ApiException.badRequest("invalid_tensor", "input 'text': element " + i + " is not UTF-8");
            }
        }
        return texts;
    }

    /** The outputs asked for among those the inputs give, or all of those when none is named. */
    private static List<RequestedOutput> zeroShotOutputs(InferenceRequest request, List<String> available,
                                                         boolean hasImage, boolean hasText) {
        if (request.outputs().isEmpty()) {
            return available.stream().map(name -> new RequestedOutput(name, 0, request.binaryByDefault())).toList();
        }
        Map<String, RequestedOutput> byName = new LinkedHashMap<>();
        for (RequestedOutput output : request.outputs()) {
            if (!ModelMetadata.ZERO_SHOT_OUTPUTS.contains(output.name())) {
                throw ApiException.badRequest("invalid_tensor", "unknown output '" + output.name() + "'; this model has "
                        + String.join(", ", ModelMetadata.ZERO_SHOT_OUTPUTS));
            }
            if (!available.contains(output.name())) {
                throw ApiException.badRequest("invalid_tensor", "output '" + output.name() + "' needs "
                        + (hasImage ? "a '" + ModelMetadata.TEXT + "' input (the candidate labels)" : "an image input ('"
                        + ModelMetadata.IMAGE + "' or '" + ModelMetadata.PIXEL_VALUES + "')")
                        + (hasText && !hasImage ? "; text alone gives " + ModelMetadata.TEXT_EMBEDS
                        : "; an image alone gives " + ModelMetadata.IMAGE_EMBEDS));
            }
            if (output.classification() < 0 || output.classification() > 0
                    && (output.name().equals(ModelMetadata.IMAGE_EMBEDS) || output.name().equals(ModelMetadata.TEXT_EMBEDS))) {
                throw ApiException.badRequest("invalid_parameter", "output '" + output.name() + "': classification"
                        + " applies to " + ModelMetadata.PROBABILITIES + " and " + ModelMetadata.LOGITS_PER_IMAGE
                        + ", as a whole number of at least 1");
            }
            byName.put(output.name(), output);
        }
        return List.copyOf(byName.values());
    }

    /** Rows of equal width as one FP32 [rows,width] output. */
    private static Output matrix(RequestedOutput asked, List<float[]> rows, int width) {
        float[] values = new float[rows.size() * width];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, values, i * width, width);
        }
        return new Output(asked.name(), "FP32", new long[] {rows.size(), width}, values, null, asked.binary());
    }

    private static Output zeroShotOutput(RequestedOutput asked, ZeroShot.Answer<InferenceResult> answer,
                                         ZeroShotLabels labels, int width, TextTower tower) {
        if (asked.name().equals(ModelMetadata.IMAGE_EMBEDS)) {
            return matrix(asked, answer.images().stream().map(scored -> scored.image().embedding()).toList(), width);
        }
        if (asked.name().equals(ModelMetadata.TEXT_EMBEDS)) {
            return matrix(asked, Arrays.asList(answer.texts().vectors()), width);
        }
        int l = labels.labels().size();
        List<float[]> rows = new ArrayList<>();
        for (ZeroShot.Scored<InferenceResult> scored : answer.images()) {
            float[] row = new float[l];
            if (asked.name().equals(ModelMetadata.LOGITS_PER_IMAGE)) {
                for (int j = 0; j < l; j++) {
                    row[j] = (float) scored.logits()[j];
                }
            } else {
                double[] scores = tower.scores(scored.logits());
                for (int j = 0; j < l; j++) {
                    row[j] = (float) scores[j];
                }
            }
            rows.add(row);
        }
        Output values = matrix(asked, rows, l);
        if (asked.classification() == 0) {
            return values;
        }
        int k = Math.min(asked.classification(), l);
        List<byte[]> classes = new ArrayList<>(rows.size() * k);
        for (float[] row : rows) {
            Integer[] order = new Integer[l];
            Arrays.setAll(order, j -> j);
            Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -row[j]));
            for (int r = 0; r < k; r++) {
                int j = order[r];
                classes.add(String.format(Locale.ROOT, "%f:%d:%s", row[j], j, labels.labels().get(j))
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        return new Output(asked.name(), "BYTES", new long[] {rows.size(), k}, null, classes, asked.binary());
    }

    private static float[] probabilities(float[] logits, ServingModel serving) {
        double[] scores = Postprocessor.scores(logits, serving.model().defaultFunction());
        float[] values = new float[scores.length];
        for (int j = 0; j < scores.length; j++) {
            values[j] = (float) scores[j];
        }
        return values;
    }
}
