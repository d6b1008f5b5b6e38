package dev.vitserve.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vitserve.api.ModelWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@link ModelWeights} over an F32 safetensors file for the backends' tests (memory-mapped, read-only
 * views, as core's reader gives them), and a writer for crafting broken files.
 */
public final class TestSafetensors implements ModelWeights {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One tensor: its shape and float32 values. */
    public record Tensor(long[] shape, float[] values) {
    }

    private record Entry(long[] shape, int begin, int end) {
    }

    private final Path file;
    private final ByteBuffer data;
    private final Map<String, Entry> entries;

    private TestSafetensors(Path file, ByteBuffer data, Map<String, Entry> entries) {
        this.file = file;
        this.data = data;
        this.entries = entries;
    }

    /**
     * Maps a file of F32 tensors. Integer tensors (the I64 {@code relative_position_index} buffers transformers saves
     * with a Swin) are left out: no network reads them.
     */
    public static TestSafetensors open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer all = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
            int headerLength = (int) all.getLong(0);
            byte[] header = new byte[headerLength];
            all.get(8, header);
            JsonNode root = JSON.readTree(new String(header, StandardCharsets.UTF_8));
            Map<String, Entry> entries = new LinkedHashMap<>();
            root.fields().forEachRemaining(field -> {
                if (!field.getKey().equals("__metadata__")) {
                    JsonNode node = field.getValue();
                    if (node.get("dtype").asText().matches("[IU](8|16|32|64)")) {
                        return;
                    }
                    if (!node.get("dtype").asText().equals("F32")) {
                        throw new IllegalArgumentException("test reader takes F32 only: " + field.getKey());
                    }
                    long[] shape = new long[node.get("shape").size()];
                    for (int i = 0; i < shape.length; i++) {
                        shape[i] = node.get("shape").get(i).asLong();
                    }
                    entries.put(field.getKey(), new Entry(shape, node.get("data_offsets").get(0).asInt(),
                            node.get("data_offsets").get(1).asInt()));
                }
            });
            ByteBuffer data = all.slice(8 + headerLength, all.capacity() - 8 - headerLength).order(ByteOrder.LITTLE_ENDIAN);
            return new TestSafetensors(file, data, Collections.unmodifiableMap(entries));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape().clone();
    }

    @Override
    public FloatBuffer floats(String name) {
        Entry entry = entry(name);
        return data.slice(entry.begin(), entry.end() - entry.begin()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    private Entry entry(String name) {
        Entry entry = entries.get(name);
        if (entry == null) {
            throw new IllegalArgumentException(file + " has no tensor '" + name + "'");
        }
        return entry;
    }

    /** Every tensor of the file, copied, in file order (to change and {@link #write}). */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String name : names()) {
            FloatBuffer values = floats(name);
            float[] copy = new float[values.remaining()];
            values.get(copy);
            tensors.put(name, new Tensor(shape(name), copy));
        }
        return tensors;
    }

    /** Writes F32 tensors as a safetensors file. */
    public static void write(Path file, Map<String, Tensor> tensors) {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (Map.Entry<String, Tensor> tensor : tensors.entrySet()) {
            ObjectNode node = header.putObject(tensor.getKey());
            node.put("dtype", "F32");
            long[] shape = tensor.getValue().shape();
            for (long dim : shape) {
                node.withArray("shape").add(dim);
            }
            long end = offset + (long) tensor.getValue().values().length * Float.BYTES;
            node.withArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        StringBuilder json = new StringBuilder(header.toString());
        while ((json.length() + 8) % 8 != 0) {
            json.append(' ');
        }
        byte[] headerBytes = json.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + headerBytes.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(headerBytes.length).put(headerBytes);
        for (Tensor tensor : tensors.values()) {
            for (float value : tensor.values()) {
                out.putFloat(value);
            }
        }
        try {
            Files.write(file, out.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
