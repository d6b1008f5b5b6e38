package dev.vitserve.server;

import static dev.vitserve.core.testing.OipRestClient.binaryInput;
import static dev.vitserve.core.testing.OipRestClient.outputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.OipRestClient;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Image classifiers of architectures vitserve does not build (a ConvNeXt and a ResNet), served from their ONNX export
 * alone in Optimum's layout: every photo's logits within 1e-4 of PyTorch on Pillow's tensor through the REST API and the
 * OIP REST route, several images in one request equal to each alone, the architecture in /v1/models and the OIP
 * metadata, embeddings of the classifier's input width; and the exports that do not fit refused at load, saying what
 * to do, while the server's other model keeps answering.
 */
@ExtendWith(VertxExtension.class)
class ExportedClassifiersTest {

    static final double TOLERANCE = ReferenceParityTest.LOGIT_TOLERANCE;
    static final String KEY = "admin-key-0123456789";

    @TempDir
    Path dir;

    static List<String> models() {
        return Fixtures.exportedModelNames();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void servedFromOnnxAloneWithinTolerance(String model, Vertx vertx) throws Exception {
        Path folder = optimumLayout(model);
        String architecture = Fixtures.json(folder.resolve("config.json")).get("architectures").get(0).asText();
        int labels = Fixtures.json(folder.resolve("config.json")).get("id2label").size();
        try (RunningServer server = RunningServer.startModel(vertx, folder, "onnx", "--device", "cpu")) {
            JsonObject models = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("exported ONNX: " + architecture, models.getString("architecture"), models.encode());
            assertEquals("onnx/model.onnx", models.getString("weights"), models.encode());
            assertEquals(labels, models.getInteger("labels"), models.encode());
            JsonObject metadata = server.get("/v2/models/" + model).bodyAsJsonObject();
            assertEquals("exported ONNX: " + architecture, metadata.getString("architecture"), metadata.encode());

            // REST, one photo a request
            List<float[]> alone = new ArrayList<>();
            for (String photo : Fixtures.photoNames()) {
                float[] logits = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                        Fixtures.bytes(Fixtures.image(photo)), "image/*"));
                assertClose(Fixtures.referenceLogits(model, photo), logits, model + " REST " + photo);
                alone.add(logits);
            }
            // REST, every photo in one multipart request: the same answers, in order
            MultipartForm form = MultipartForm.create();
            for (String photo : Fixtures.photoNames()) {
                form.binaryFileUpload("images", photo, Buffer.buffer(Fixtures.bytes(Fixtures.image(photo))), "image/*");
            }
            HttpResponse<Buffer> batch = server.client.post("/v1/classify?function=none&top_k=1000")
                    .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
            assertEquals(200, batch.statusCode(), batch.bodyAsString());
            JsonArray results = batch.bodyAsJsonObject().getJsonArray("results");
            for (int n = 0; n < alone.size(); n++) {
                assertClose(alone.get(n), ReferenceParityTest.logits(results.getJsonObject(n).getJsonArray("predictions")),
                        model + " in a batch, " + Fixtures.photoNames().get(n));
            }

            // OIP REST: encoded images one by one, then every photo's pixel_values in one FP32 batch
            OipRestClient oip = new OipRestClient(server);
            String infer = "/v2/models/" + model + "/infer";
            List<byte[]> photos = new ArrayList<>();
            for (String photo : Fixtures.photoNames()) {
                byte[] bytes = Fixtures.bytes(Fixtures.image(photo));
                photos.add(bytes);
                JsonObject request = new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
                        .put("name", "image").put("datatype", "BYTES").put("shape", new JsonArray(List.of(1)))
                        .put("data", new JsonArray().add(Base64.getEncoder().encodeToString(bytes)))));
                float[] logits = outputs(oip.post(infer, request.toBuffer(), null)).get(0).floats();
                assertClose(Fixtures.referenceLogits(model, photo), logits, model + " OIP " + photo);
            }
            var pre = Fixtures.json(folder.resolve("preprocessor_config.json")).get("size");
            float[] pixels = OipRestClient.pixelValues(folder, photos);
            JsonObject header = new JsonObject().put("inputs", new JsonArray().add(binaryInput("pixel_values", "FP32",
                    List.of((long) photos.size(), 3L, pre.get("height").asLong(), pre.get("width").asLong()),
                    pixels.length * 4))).put("parameters", new JsonObject().put("binary_data_output", true));
            float[] all = outputs(oip.postBinary(infer, header, OipRestClient.littleEndian(pixels))).get(0).floats();
            assertEquals(photos.size() * labels, all.length);
            for (int n = 0; n < photos.size(); n++) {
                float[] row = java.util.Arrays.copyOfRange(all, n * labels, (n + 1) * labels);
                assertClose(Fixtures.referenceLogits(model, Fixtures.photoNames().get(n)), row,
                        model + " OIP pixel_values batch " + n);
            }

            // embeddings: the classifier's input, as wide as its weight (ConvNeXt: last stage 48; ResNet: 32)
            int width = Fixtures.json(folder.resolve("config.json")).get("hidden_sizes").get(2 + (model.startsWith("resnet")
                    ? 1 : 0)).asInt();
            assertEquals(width, models.getInteger("embedding_size"), models.encode());
            JsonObject embedded = server.postImage("/v1/models/" + model + "/embed", photos.get(0), "image/*")
                    .bodyAsJsonObject();
            assertEquals(width, embedded.getInteger("dimensions"), embedded.encode());
            assertEquals(width, embedded.getJsonArray("results").getJsonObject(0).getJsonArray("embedding").size());
        }
    }

    @Test
    void overGrpcFromPythonsClient(Vertx vertx) throws Exception {
        Path scripts = ExternalClient.pythonGrpcClient("oip_grpc_client.py");
        String model = "convnext-exported";
        Path folder = optimumLayout(model);
        try (RunningServer server = RunningServer.startModel(vertx, folder, "onnx", "--device", "cpu", "--grpc-port",
                "0", "--api-key", KEY)) {
            List<String> command = new ArrayList<>(List.of(ExternalClient.PYTHON, "oip_grpc_client.py", "127.0.0.1:"
                    + server.server.grpcPort(), model, KEY, folder.resolve("preprocessor_config.json").toString()));
            for (String photo : Fixtures.photoNames()) {
                command.add(Fixtures.image(photo).toString());
            }
            String output = ExternalClient.run(scripts, command);
            var answer = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(output.lines().reduce((a, b) -> b).orElseThrow());
            assertEquals("[[\"pixel_values\",\"FP32\",[-1,3,48,40]],[\"image\",\"BYTES\",[-1]]]",
                    answer.get("metadata").get("inputs").toString());
            assertEquals("[[\"logits\",\"FP32\",[-1,7]],[\"probabilities\",\"FP32\",[-1,7]],"
                    + "[\"embeddings\",\"FP32\",[-1,48]]]", answer.get("metadata").get("outputs").toString());
            List<String> photos = Fixtures.photoNames();
            var batch = answer.get("tensors_raw").get("logits");
            for (int n = 0; n < photos.size(); n++) {
                float[] expected = Fixtures.referenceLogits(model, photos.get(n));
                var bytes = answer.get("bytes").get(n).get("logits");
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], bytes.get(i).asDouble(), TOLERANCE, "gRPC bytes " + photos.get(n));
                    assertEquals(expected[i], batch.get(n * expected.length + i).asDouble(), TOLERANCE,
                            "gRPC FP32 batch " + photos.get(n));
                }
            }
        }
    }

    @Test
    void aClassifierWhoseInputCannotBeFoundServesLogitsAndSaysItHasNoEmbeddings(Vertx vertx) throws Exception {
        // logits = the channel means: no Gemm or MatMul head, so no vector the classifier reads
        Path folder = Files.createDirectories(dir.resolve("means").resolve("onnx")).getParent();
        Files.write(folder.resolve("onnx/model.onnx"), channelMeans().toByteArray());
        Files.writeString(folder.resolve("config.json"), "{\"architectures\": [\"MeansForImageClassification\"],"
                + " \"id2label\": {\"0\": \"red\", \"1\": \"green\", \"2\": \"blue\"}}");
        Files.copy(Fixtures.model("resnet-exported").resolve("preprocessor_config.json"),
                folder.resolve("preprocessor_config.json"));
        try (RunningServer server = RunningServer.startModel(vertx, folder, "onnx", "--device", "cpu")) {
            JsonObject models = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("exported ONNX: MeansForImageClassification", models.getString("architecture"));
            assertEquals(null, models.getValue("embedding_size"), models.encode());
            byte[] photo = Fixtures.bytes(Fixtures.image("chelsea.png"));
            float[] logits = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none", photo,
                    "image/*"));
            float[] pixels = OipRestClient.pixelValues(folder, List.of(photo));
            for (int c = 0; c < 3; c++) {
                double sum = 0;
                for (int i = 0; i < 56 * 56; i++) {
                    sum += pixels[c * 56 * 56 + i];
                }
                assertEquals(sum / (56 * 56), logits[c], 1e-4, "channel " + c);
            }
            HttpResponse<Buffer> embed = server.postImage("/v1/models/means/embed", photo, "image/*");
            assertEquals(422, embed.statusCode(), embed.bodyAsString());
            assertTrue(embed.bodyAsString().contains("\"embeddings_unavailable\"") && embed.bodyAsString().contains(
                    "model 'means' has no embeddings: it runs the exported network model.onnx of"
                            + " MeansForImageClassification"), embed.bodyAsString());
            JsonObject metadata = server.get("/v2/models/means").bodyAsJsonObject();
            assertEquals(2, metadata.getJsonArray("outputs").size(), "logits and probabilities: " + metadata.encode());
        }
    }

    /** pixel_values [batch, 3, height, width] -> ReduceMean over height and width -> logits [batch, 3]. */
    private static ai.onnx.proto.OnnxMl.ModelProto channelMeans() {
        var dims = new ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension[] {
                ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch").build(),
                ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(3).build(),
                ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("height").build(),
                ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("width").build()};
        var graph = ai.onnx.proto.OnnxMl.GraphProto.newBuilder().setName("means")
                .addInput(floatValue("pixel_values", dims))
                .addOutput(floatValue("logits", dims[0], dims[1]))
                .addNode(ai.onnx.proto.OnnxMl.NodeProto.newBuilder().setOpType("ReduceMean").setName("means")
                        .addInput("pixel_values").addOutput("logits")
                        .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("axes")
                                .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INTS).addInts(2).addInts(3))
                        .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("keepdims")
                                .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(0)));
        return ai.onnx.proto.OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("test").setGraph(graph)
                .addOpsetImport(ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .build();
    }

    private static ai.onnx.proto.OnnxMl.ValueInfoProto floatValue(String name,
            ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension... dims) {
        var shape = ai.onnx.proto.OnnxMl.TensorShapeProto.newBuilder();
        for (var dim : dims) {
            shape.addDim(dim);
        }
        return ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(ai.onnx.proto.OnnxMl.TypeProto
                .newBuilder().setTensorType(ai.onnx.proto.OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    @Test
    void exportsThatDoNotFitAreRefusedAtLoadAndTheOtherModelKeepsAnswering(Vertx vertx) throws Exception {
        // a graph whose input is not pixel_values (the same bytes, the name changed in place)
        Path noPixels = optimumLayout("resnet-exported", "no-pixel-values");
        Path graph = noPixels.resolve("onnx/model.onnx");
        byte[] bytes = Files.readAllBytes(Fixtures.model("resnet-exported").resolve("onnx/model.onnx"));
        Files.delete(graph);
        Files.write(graph, replace(bytes, "pixel_values", "image_tensor"));
        // config.json with 4 labels for a graph giving 6 logits
        Path fewerLabels = optimumLayout("convnext-exported", "fewer-labels");
        String config = Files.readString(Fixtures.model("convnext-exported").resolve("config.json"));
        Files.delete(fewerLabels.resolve("config.json"));
        Files.writeString(fewerLabels.resolve("config.json"), config
                .replaceAll(",\\s*\"4\": \"golden retriever\"", "").replaceAll(",\\s*\"5\": \"espresso\"", "")
                .replaceAll(",\\s*\"6\": \"rocket\"", ""));
        // an architecture vitserve does not build, without an export
        Path unexported = Files.createDirectories(dir.resolve("convnext"));
        Files.writeString(unexported.resolve("config.json"), "{\"architectures\": [\"ConvNextForImageClassification\"],"
                + " \"model_type\": \"convnext\", \"_name_or_path\": \"facebook/convnext-tiny-224\","
                + " \"id2label\": {\"0\": \"a\", \"1\": \"b\"}}");
        Files.copy(Fixtures.model("resnet-exported").resolve("preprocessor_config.json"),
                unexported.resolve("preprocessor_config.json"));
        Path good = optimumLayout("resnet-exported", "good");

        try (RunningServer server = RunningServer.start(vertx, "onnx", "--device", "cpu", "--admin-port", "0",
                "--admin-api-key", KEY, "--admin-model-roots", Fixtures.root() + "," + dir)) {
            WebClient admin = WebClient.create(vertx);
            try {
                assertRefused(server, admin, new JsonObject().put("name", "no-pixels").put("model", noPixels.toString()),
                        "takes 1 tensor: image_tensor [?, 3, 56, 56]; vitserve serves an exported image classifier as"
                                + " Optimum writes it", "export it again with Optimum, or with torch.onnx.export(..., input_names=[\"pixel_values\"])");
                assertRefused(server, admin, new JsonObject().put("name", "fewer").put("model", fewerLabels.toString()),
                        "gives logits [?, 7], but config.json has 4 labels in id2label, so vitserve expects logits"
                                + " [batch_size, 4]", "serve the config.json the network was exported with");
                assertRefused(server, admin, new JsonObject().put("name", "convnext").put("model", unexported.toString()),
                        "architectures [ConvNextForImageClassification] (model_type 'convnext') is not supported; vitserve"
                                + " builds these image classifiers from model.safetensors: ViTForImageClassification,",
                        "export it with Optimum (optimum-cli export onnx --model facebook/convnext-tiny-224"
                                + " --task image-classification <folder>)");
                assertRefused(server, admin, new JsonObject().put("name", "on-djl").put("model", good.toString())
                        .put("backend", "djl"), "only an ONNX export, which the DJL backend does not run",
                        "serve it with --backend onnx");
                assertRefused(server, admin, new JsonObject().put("name", "in-int8").put("model", good.toString())
                        .put("precision", "int8"), "is ResNetForImageClassification, served from its exported network",
                        "serve it with --precision fp32");
                // the server's own model answered throughout
                String photo = Fixtures.photoNames().get(0);
                float[] logits = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                        Fixtures.bytes(Fixtures.image(photo)), "image/*"));
                assertClose(Fixtures.referenceLogits(photo), logits, "tiny-vit beside the refused models");
                assertEquals("ready", server.get("/v1/models/tiny-vit").bodyAsJsonObject().getString("state"));
            } finally {
                admin.close();
            }
        }
    }

    /** A load through the management API either refused at once (400) or failing while it loads, saying both texts. */
    private static void assertRefused(RunningServer server, WebClient admin, JsonObject load, String... texts)
            throws Exception {
        HttpResponse<Buffer> accepted = admin.post(server.server.adminPort(), "127.0.0.1", "/admin/models")
                .putHeader("Authorization", "Bearer " + KEY).sendJsonObject(load).await(30, TimeUnit.SECONDS);
        String message;
        if (accepted.statusCode() == 400) {
            message = accepted.bodyAsString();
        } else {
            assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
            message = awaitFailed(server, load.getString("name"));
        }
        System.out.println(load.getString("name") + " refused: " + message);
        for (String text : texts) {
            assertTrue(message.contains(text), "'" + text + "' not in: " + message);
        }
    }

    private static String awaitFailed(RunningServer server, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonObject model = server.get("/v1/models/" + name).bodyAsJsonObject();
            if ("failed".equals(model.getString("state"))) {
                return model.getString("status");
            }
            assertTrue(!"ready".equals(model.getString("state")), name + " loaded: " + model.encode());
            Thread.sleep(50);
        }
        throw new AssertionError(name + " never failed: " + server.get("/v1/models/" + name).bodyAsString());
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], TOLERANCE, what + ", logit " + i);
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        System.out.printf("%s: largest logit difference %.2e%n", what, worst);
    }

    private static byte[] replace(byte[] bytes, String from, String to) {
        byte[] a = from.getBytes(StandardCharsets.US_ASCII);
        byte[] b = to.getBytes(StandardCharsets.US_ASCII);
        byte[] out = bytes.clone();
        for (int i = 0; i + a.length <= out.length; i++) {
            if (java.util.Arrays.equals(out, i, i + a.length, a, 0, a.length)) {
                System.arraycopy(b, 0, out, i, b.length);
            }
        }
        return out;
    }

    private Path optimumLayout(String model) throws Exception {
        return optimumLayout(model, model);
    }

    /** The export as Optimum's layout has it: config.json, preprocessor_config.json and onnx/model.onnx, as links. */
    private Path optimumLayout(String model, String name) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(name).resolve("onnx")).getParent();
        for (String file : List.of("config.json", "preprocessor_config.json", "onnx/model.onnx")) {
            Files.createSymbolicLink(folder.resolve(file), Fixtures.model(model).resolve(file));
        }
        return folder;
    }
}
