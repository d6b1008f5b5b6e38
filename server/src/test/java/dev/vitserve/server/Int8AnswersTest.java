package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.Logits;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --precision int8} keeps the answers, through the REST API: on the trained digits ViT, accuracy within
 * 0.5 points of fp32 and top-1 agreement with fp32 of at least 99% over its 300 validation images; on the
 * random-weight fixtures, int8 logits within a cosine similarity of 0.99 of fp32 for every photo. {@code /v1/models}
 * says what was built, and a backend without int8 refuses to start.
 */
@ExtendWith(VertxExtension.class)
class Int8AnswersTest {

    /** Images per multipart request: the server's default {@code --max-files}. */
    private static final int FILES_PER_REQUEST = 16;

    @Test
    void trainedDigitsKeepTheirAccuracyAndAgreeWithFp32(Vertx vertx) throws Exception {
        List<Fixtures.LabelledImage> images = Fixtures.digitsValidation();
        assertEquals(300, images.size());
        List<String> fp32;
        List<String> int8;
        try (RunningServer server = RunningServer.startModel(vertx, Fixtures.digitsVit(), "onnx", "--device", "cpu")) {
            fp32 = topLabels(server, images);
        }
        try (RunningServer server = RunningServer.startModel(vertx, Fixtures.digitsVit(), "onnx", "--device", "cpu",
                "--precision", "int8")) {
            int8 = topLabels(server, images);
        }
        int fp32Right = 0;
        int int8Right = 0;
        int agreeing = 0;
        for (int i = 0; i < images.size(); i++) {
            fp32Right += fp32.get(i).equals(images.get(i).label()) ? 1 : 0;
            int8Right += int8.get(i).equals(images.get(i).label()) ? 1 : 0;
            agreeing += fp32.get(i).equals(int8.get(i)) ? 1 : 0;
        }
        double fp32Accuracy = 100.0 * fp32Right / images.size();
        double int8Accuracy = 100.0 * int8Right / images.size();
        double agreement = 100.0 * agreeing / images.size();
        String figures = String.format("digits-vit, 300 validation images: fp32 %.2f%%, int8 %.2f%%, agreement %.2f%%",
                fp32Accuracy, int8Accuracy, agreement);
        System.out.println(figures);
        assertTrue(fp32Accuracy >= 98.5, "the trained model is 99.0% accurate in fp32; " + figures);
        assertTrue(Math.abs(int8Accuracy - fp32Accuracy) <= 0.5, figures);
        assertTrue(agreement >= 99.0, figures);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.vitserve.testkit.Fixtures#modelNames")
    void randomWeightLogitsStayWithinCosine099OfFp32(String model, Vertx vertx, @TempDir Path dir) throws Exception {
        Path folder = hubLayout(model, dir);
        List<float[]> fp32 = new ArrayList<>();
        try (RunningServer server = RunningServer.startModel(vertx, folder, "onnx", "--device", "cpu")) {
            for (String photo : Fixtures.photoNames()) {
                fp32.add(logits(server, photo));
            }
        }
        try (RunningServer server = RunningServer.startModel(vertx, folder, "onnx", "--device", "cpu",
                "--precision", "int8")) {
            for (int i = 0; i < fp32.size(); i++) {
                String photo = Fixtures.photoNames().get(i);
                double cosine = Logits.cosineSimilarity(fp32.get(i), logits(server, photo));
                assertTrue(cosine >= 0.99, model + " " + photo + ": cosine similarity of int8 to fp32 logits " + cosine);
            }
        }
    }

    @Test
    void modelsSaysWhatWasBuilt(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "onnx", "--device", "cpu", "--precision", "int8")) {
            JsonObject models = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("int8", models.getString("precision"), models.encode());
            assertEquals("model.safetensors", models.getString("weights"), "int8 is built from the weights, not the export");
            JsonObject build = models.getJsonObject("build");
            assertEquals("int8", build.getString("precision"));
            assertTrue(build.getString("quantized_layers").startsWith("12 linear layers of the encoder"), build.encode());
            assertTrue(build.getString("float32_layers").contains("classifier head"), build.encode());
            assertTrue(build.getString("operators").contains("DynamicQuantizeMatMul"), build.encode());
            assertTrue(build.getString("operators").contains("bit weights"), build.encode());
            assertTrue(build.getLong("load_ms") >= build.getLong("quantize_ms"), build.encode());
            assertEquals("int8", server.get("/v2/models/" + models.getString("default")).bodyAsJsonObject()
                    .getString("precision"), "the OIP model metadata says the precision too");
        }
        try (RunningServer server = RunningServer.start(vertx, "onnx", "--device", "cpu")) {
            JsonObject build = server.get("/v1/models").bodyAsJsonObject().getJsonObject("build");
            assertEquals("fp32", build.getString("precision"), build.encode());
            assertEquals("none", build.getString("quantized_layers"));
            assertEquals(0L, build.getLong("quantize_ms"));
            assertEquals("fp32", server.get("/v2/models/" + server.get("/v1/models").bodyAsJsonObject()
                    .getString("default")).bodyAsJsonObject().getString("precision"));
        }
    }

    @Test
    void djlRefusesInt8AtStartNamingTheOnnxBackend(Vertx vertx) {
        Exception e = assertThrows(Exception.class, () -> RunningServer.start(vertx, "djl", "--precision", "int8").close());
        String message = messages(e);
        assertTrue(message.contains("--precision int8 is not available with --backend djl"), message);
        assertTrue(message.contains("use --backend onnx"), message);
    }

    /** The model's config, preprocessor config and weights as links, as a Hub snapshot holds them. */
    static Path hubLayout(String model, Path dir) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(model));
        for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.createSymbolicLink(folder.resolve(file), Fixtures.model(model).resolve(file));
        }
        return folder;
    }

    /** The best label of every image, asked {@value #FILES_PER_REQUEST} images a request. */
    static List<String> topLabels(RunningServer server, List<Fixtures.LabelledImage> images) throws Exception {
        List<String> labels = new ArrayList<>();
        for (int start = 0; start < images.size(); start += FILES_PER_REQUEST) {
            MultipartForm form = MultipartForm.create();
            for (Fixtures.LabelledImage image : images.subList(start, Math.min(images.size(), start + FILES_PER_REQUEST))) {
                form.binaryFileUpload("image", image.file().getFileName().toString(),
                        Buffer.buffer(Fixtures.bytes(image.file())), "image/png");
            }
            HttpResponse<Buffer> response = server.client.post("/v1/classify?top_k=1").sendMultipartForm(form)
                    .await(60, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.bodyAsString());
            JsonArray results = response.bodyAsJsonObject().getJsonArray("results");
            for (int i = 0; i < results.size(); i++) {
                labels.add(results.getJsonObject(i).getJsonArray("predictions").getJsonObject(0).getString("label"));
            }
        }
        return labels;
    }

    static float[] logits(RunningServer server, String photo) throws Exception {
        return ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                Fixtures.bytes(Fixtures.image(photo)), "image/*"));
    }

    static String messages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append(" | ");
        }
        return all.toString();
    }
}
