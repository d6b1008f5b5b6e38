package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.CpuFeatures;
import dev.vitserve.api.Logits;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --precision bf16} on the djl backend, through the REST API. On a CPU with AVX-512 BF16 or AMX-BF16: the
 * logits within a cosine of 0.999 of fp32's for every photo, the trained digits ViT within 0.3 points of fp32's
 * accuracy, and {@code /v1/models} and the OIP metadata saying bf16 and the CPU features used. On a CPU without:
 * the server refuses to start, saying what the CPU lacks (each test says which path it took). On either, the onnx
 * backend refuses bf16 naming djl, and {@code auto} picks bf16 exactly where the CPU has it.
 */
@ExtendWith(VertxExtension.class)
class Bf16AnswersTest {

    private static final CpuFeatures CPU = CpuFeatures.detect();

    @Test
    void trainedDigitsKeepTheirAccuracyWithin03PointsOrTheCpuIsRefused(Vertx vertx) throws Exception {
        if (!CPU.bf16()) {
            assertRefusedForLackingBf16(vertx, Fixtures.digitsVit());
            return;
        }
        List<Fixtures.LabelledImage> images = Fixtures.digitsValidation();
        List<String> fp32;
        List<String> bf16;
        try (RunningServer server = RunningServer.startModel(vertx, Fixtures.digitsVit(), "djl", "--device", "cpu")) {
            fp32 = Int8AnswersTest.topLabels(server, images);
        }
        try (RunningServer server = RunningServer.startModel(vertx, Fixtures.digitsVit(), "djl", "--device", "cpu",
                "--precision", "bf16")) {
            bf16 = Int8AnswersTest.topLabels(server, images);
        }
        int fp32Right = 0;
        int bf16Right = 0;
        for (int i = 0; i < images.size(); i++) {
            fp32Right += fp32.get(i).equals(images.get(i).label()) ? 1 : 0;
            bf16Right += bf16.get(i).equals(images.get(i).label()) ? 1 : 0;
        }
        double fp32Accuracy = 100.0 * fp32Right / images.size();
        double bf16Accuracy = 100.0 * bf16Right / images.size();
        String figures = String.format("digits-vit on djl, %d validation images, CPU %s: fp32 %.2f%%, bf16 %.2f%%",
                images.size(), CPU.bf16Flags(), fp32Accuracy, bf16Accuracy);
        System.out.println(figures);
        assertTrue(fp32Accuracy >= 98.5, figures);
        assertTrue(Math.abs(bf16Accuracy - fp32Accuracy) <= 0.3, figures);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tiny-vit", "vit-shape-a", "vit-shape-b"})
    void photoLogitsStayWithinCosine0999OfFp32OrTheCpuIsRefused(String model, Vertx vertx, @TempDir Path dir)
            throws Exception {
        Path folder = Int8AnswersTest.hubLayout(model, dir);
        if (!CPU.bf16()) {
            assertRefusedForLackingBf16(vertx, folder);
            return;
        }
        List<float[]> fp32 = new ArrayList<>();
        try (RunningServer server = RunningServer.startModel(vertx, folder, "djl", "--device", "cpu")) {
            for (String photo : Fixtures.photoNames()) {
                fp32.add(Int8AnswersTest.logits(server, photo));
            }
        }
        try (RunningServer server = RunningServer.startModel(vertx, folder, "djl", "--device", "cpu",
                "--precision", "bf16")) {
            double worst = 1;
            for (int i = 0; i < fp32.size(); i++) {
                String photo = Fixtures.photoNames().get(i);
                float[] bf16 = Int8AnswersTest.logits(server, photo);
                double cosine = Logits.cosineSimilarity(fp32.get(i), bf16);
                assertTrue(cosine >= 0.999, model + " " + photo + ": cosine of bf16 to fp32 logits " + cosine);
                assertFalse(java.util.Arrays.equals(fp32.get(i), bf16), photo + ": bf16 gave fp32's very logits");
                worst = Math.min(worst, cosine);
            }
            System.out.printf("%s on djl bf16: least cosine to fp32 over %d photos %.6f%n", model, fp32.size(), worst);
        }
    }

    @Test
    void modelsAndOipMetadataSayBf16AndTheCpuFeaturesOrTheCpuIsRefused(Vertx vertx) throws Exception {
        if (!CPU.bf16()) {
            assertRefusedForLackingBf16(vertx, Fixtures.tinyVit());
            return;
        }
        try (RunningServer server = RunningServer.start(vertx, "djl", "--device", "cpu", "--precision", "bf16")) {
            JsonObject models = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("bf16", models.getString("precision"), models.encode());
            JsonObject build = models.getJsonObject("build");
            assertEquals(CPU.bf16Flags(), build.getJsonArray("cpu_features").getList(), build.encode());
            assertTrue(build.getString("operators").contains("oneDNN"), build.encode());
            assertEquals(null, build.getString("chosen_because"), "bf16 was asked for, not chosen");
            JsonObject metadata = server.get("/v2/models/tiny-vit").bodyAsJsonObject();
            assertEquals("bf16", metadata.getString("precision"), metadata.encode());
            assertEquals(CPU.bf16Flags(), metadata.getJsonArray("cpu_features").getList(), metadata.encode());
        }
    }

    @Test
    void autoOnDjlPicksBf16ExactlyWhereTheCpuHasIt(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "djl", "--device", "cpu", "--precision", "auto")) {
            JsonObject build = server.get("/v1/models").bodyAsJsonObject().getJsonObject("build");
            String why = build.getString("chosen_because");
            if (CPU.bf16()) {
                assertEquals("bf16", build.getString("precision"), build.encode());
                assertEquals("auto: bf16, the fastest precision here", why);
            } else {
                assertEquals("fp32", build.getString("precision"), build.encode());
                assertTrue(why.contains("passed over bf16: this CPU lists neither"), why);
            }
        }
    }

    @Test
    void bf16IsAPerModelSettingBesideAnFp32Model(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "djl", "--device", "cpu", "--admin-port", "0",
                "--admin-api-key", PerModelPrecisionTest.KEY, "--admin-model-roots", Fixtures.root().toString())) {
            WebClient admin = WebClient.create(vertx);
            try {
                HttpResponse<Buffer> accepted = admin.post(server.server.adminPort(), "127.0.0.1", "/admin/models")
                        .putHeader("Authorization", "Bearer " + PerModelPrecisionTest.KEY)
                        .sendJsonObject(new JsonObject().put("name", "tiny-bf16")
                                .put("model", Fixtures.tinyVit().toString()).put("precision", "bf16"))
                        .await(30, TimeUnit.SECONDS);
                assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
            } finally {
                admin.close();
            }
            JsonObject entry = settled(server, "tiny-bf16");
            if (!CPU.bf16()) {
                assertEquals("failed", entry.getString("state"), entry.encode());
                assertTrue(entry.getString("status").contains("refused on this CPU"), entry.encode());
                return;
            }
            assertEquals("ready", entry.getString("state"), entry.encode());
            assertEquals("bf16", entry.getString("precision"), entry.encode());
            assertEquals("fp32", server.get("/v1/models").bodyAsJsonObject().getString("precision"));
            byte[] photo = Fixtures.bytes(Fixtures.image(Fixtures.photoNames().get(0)));
            float[] fp32 = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000", photo,
                    "image/*"));
            float[] bf16 = ReferenceParityTest.logits(server.postImage(
                    "/v1/models/tiny-bf16/classify?function=none&top_k=1000", photo, "image/*"));
            assertTrue(Logits.cosineSimilarity(fp32, bf16) >= 0.999);
            assertFalse(java.util.Arrays.equals(fp32, bf16), "the bf16 route gave the fp32 logits");
        }
    }

    private static JsonObject settled(RunningServer server, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            HttpResponse<Buffer> response = server.get("/v1/models/" + name);
            if (response.statusCode() == 200 && !"loading".equals(response.bodyAsJsonObject().getString("state"))) {
                return response.bodyAsJsonObject();
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " never settled: " + server.get("/v1/models/" + name).bodyAsString());
    }

    @Test
    void onnxRefusesBf16NamingDjl(Vertx vertx) {
        Exception e = assertThrows(Exception.class,
                () -> RunningServer.start(vertx, "onnx", "--precision", "bf16").close());
        String message = Int8AnswersTest.messages(e);
        assertTrue(message.contains("--precision bf16 is not available with --backend onnx"), message);
        assertTrue(message.contains("--backend djl runs bf16"), message);
    }

    /** The path taken on a CPU without bf16: the server does not start, and says what the CPU lacks. */
    private static void assertRefusedForLackingBf16(Vertx vertx, Path model) {
        System.out.println("this CPU has no bf16 (" + CPU.bf16Lack() + "): asserting the refusal instead");
        Exception e = assertThrows(Exception.class, () -> RunningServer.startModel(vertx, model, "djl", "--device",
                "cpu", "--precision", "bf16").close());
        String message = Int8AnswersTest.messages(e);
        assertTrue(message.contains("--precision bf16 is refused on this CPU: this CPU lists neither amx_bf16 nor"
                + " avx512_bf16"), message);
    }
}
