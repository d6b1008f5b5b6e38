package dev.vitserve.backend.djl;

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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A test-only reader and writer of F32 safetensors files (8-byte little-endian header length, JSON header with dtype,
 * shape and data offsets, then the data), so the backend's tests need not depend on core's reader.
 */
final class TestSafetensors implements ModelWeights {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One tensor: its shape and its values, row-major. */
    record Tensor(long[] shape, FloatBuffer values) {
    }

    private final Path file;
    private final Map<String, Tensor> tensors;

    private TestSafetensors(Path file, Map<String, Tensor> tensors) {
        this.file = file;
        this.tensors = tensors;
    }

    /** Maps a file and reads its header; F32 tensors are views of the mapping, as core's reader gives them. */
    static TestSafetensors open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer all = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
            int headerLength = Math.toIntExact(all.getLong(0));
            byte[] header = new byte[headerLength];
            all.get(8, header);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = JSON.readTree(new String(header, StandardCharsets.UTF_8)).fields();
                 it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                if (entry.getKey().equals("__metadata__")) {
                    continue;
                }
                JsonNode node = entry.getValue();
                if (!node.get("dtype").asText().equals("F32")) {
                    throw new IllegalArgumentException("test reader: only F32, " + entry.getKey() + " is " + node.get("dtype"));
                }
                long[] shape = new long[node.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = node.get("shape").get(i).asLong();
                }
                int begin = 8 + headerLength + node.get("data_offsets").get(0).asInt();
                int end = 8 + headerLength + node.get("data_offsets").get(1).asInt();
                FloatBuffer values = all.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                tensors.put(entry.getKey(), new Tensor(shape, values));
            }
            return new TestSafetensors(file, tensors);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tensors, to change and {@link #write}. */
    Map<String, Tensor> tensors() {
        return new LinkedHashMap<>(tensors);
    }

    /** Writes tensors as an F32 safetensors file. */
    static void write(Path file, Map<String, Tensor> tensors) {
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (Map.Entry<String, Tensor> entry : tensors.entrySet()) {
            ObjectNode node = header.putObject(entry.getKey());
            node.put("dtype", "F32");
            for (long dimension : entry.getValue().shape()) {
                node.withArray("shape").add(dimension);
            }
            long bytes = (long) entry.getValue().values().remaining() * Float.BYTES;
            node.withArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (Tensor tensor : tensors.values()) {
            FloatBuffer values = tensor.values().duplicate();
            while (values.hasRemaining()) {
                out.putFloat(values.get());
            }
        }
        try {
            Files.write(file, out.array());
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
        return tensors.keySet();
    }

    @Override
    public long[] shape(String name) {
        return tensor(name).shape().clone();
    }

    @Override
    public FloatBuffer floats(String name) {
        return tensor(name).values().duplicate();
    }

    private Tensor tensor(String name) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException(file + " has no tensor " + name);
        }
        return tensor;
    }
}
