package dev.vitserve.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.testkit.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    @TempDir
    Path dir;

    @Test
    void readsTheTinyFixtureUnderHuggingFaceNames() throws Exception {
        SafetensorsFile weights = SafetensorsFile.open(Fixtures.tinyVit().resolve("model.safetensors"));
        assertTrue(weights.contains("vit.embeddings.cls_token"));
        assertArrayEquals(new long[] {10, 32}, weights.shape("classifier.weight"));
        assertArrayEquals(new long[] {1, 197, 32}, weights.shape("vit.embeddings.position_embeddings"));
        assertArrayEquals(new long[] {32, 3, 16, 16}, weights.shape("vit.embeddings.patch_embeddings.projection.weight"));
        FloatBuffer classifier = weights.floats("classifier.weight");
        assertEquals(320, classifier.remaining());
        assertTrue(classifier.isDirect());
        assertEquals(ByteOrder.nativeOrder(), classifier.order());
        assertEquals("F32", weights.dtype("classifier.weight"));
        assertTrue(weights.names().stream().allMatch(n -> n.startsWith("vit.") || n.startsWith("classifier.")));
    }

    @Test
    void halfAndBfloat16AreWidenedExactly() throws Exception {
        float[] values = {1.0f, -2.5f, 65504f, 0.000061035156f, 5.9604645e-8f, Float.POSITIVE_INFINITY, 0f, -0f};
        ByteBuffer half = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short bits : new short[] {0x3c00, (short) 0xc100, 0x7bff, 0x0400, 0x0001, 0x7c00, 0x0000, (short) 0x8000}) {
            half.putShort(bits);
        }
        ByteBuffer bf16 = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {1.0f, -2.5f, 65536f, 3.0f}) {
            bf16.putShort((short) (Float.floatToIntBits(v) >>> 16));
        }
        Path file = write("{\"h\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[16,24]},"
                + "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]},\"__metadata__\":{\"format\":\"pt\"}}",
                concat(concat(half.array(), bf16.array()), new byte[8]));

        SafetensorsFile weights = SafetensorsFile.open(file);
        float[] widened = new float[8];
        weights.floats("h").get(widened);
        assertArrayEquals(values, widened);
        float[] brain = new float[4];
        weights.floats("b").get(brain);
        assertArrayEquals(new float[] {1.0f, -2.5f, 65536f, 3.0f}, brain);
        IllegalArgumentException integer = assertThrows(IllegalArgumentException.class, () -> weights.floats("i"));
        assertTrue(integer.getMessage().contains("reads F32, F16 and BF16"), integer.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> weights.shape("nope"));
        assertTrue(missing.getMessage().contains("has no tensor 'nope'"), missing.getMessage());
    }

    @Test
    void damagedFilesAreRefusedWithTheReason() throws Exception {
        byte[] good = Files.readAllBytes(Fixtures.tinyVit().resolve("model.safetensors"));
        Path cut = Files.write(dir.resolve("cut.safetensors"), java.util.Arrays.copyOf(good, good.length - 100));
        assertMessage(cut, "do not fit its shape or the file");
        Path text = Files.writeString(dir.resolve("text.safetensors"), "this is not a safetensors file at all");
        assertMessage(text, "is not a safetensors file");
        Path badJson = write("{\"a\": {\"dtype\": \"F32\"", new byte[0]);
        assertMessage(badJson, "malformed safetensors header");
        assertMessage(Files.write(dir.resolve("tiny.safetensors"), new byte[3]), "too short");
    }

    private void assertMessage(Path file, String expected) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private Path write(String header, byte[] data) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
        out.write(json);
        out.write(data);
        return Files.write(Files.createTempFile(dir, "w", ".safetensors"), out.toByteArray());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
