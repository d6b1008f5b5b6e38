package dev.vitserve.core.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.api.ModelWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw data. Tensors are memory-mapped on demand,
 * one range at a time (so files over 2 GB work), and F16/BF16 are widened to float32.
 */
public final class SafetensorsFile implements ModelWeights {

    private static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One tensor's entry in the header. */
    private record Entry(String dtype, long[] shape, long begin, long end) {
    }

    private final Path file;
    private final long dataStart;
    private final Map<String, Entry> entries;

    private SafetensorsFile(Path file, long dataStart, Map<String, Entry> entries) {
        this.file = file;
        this.dataStart = dataStart;
        this.entries = entries;
    }

    /** Reads and checks the header; the data is read later, tensor by tensor. */
    public static SafetensorsFile open(Path file) throws ModelLoadException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (size < 8 || channel.read(prefix, 0) != 8) {
                throw new ModelLoadException(file + " is too short to be a safetensors file");
            }
            long headerLength = prefix.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > size) {
                throw new ModelLoadException(file + " is not a safetensors file (header length " + headerLength + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            while (header.hasRemaining() && channel.read(header, 8 + header.position()) > 0) {
                // read the whole header
            }
            JsonNode root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            return new SafetensorsFile(file, 8 + headerLength, entries(file, root, size - 8 - headerLength));
        } catch (JacksonException e) {
            throw new ModelLoadException(file + " has a malformed safetensors header: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, Entry> entries(Path file, JsonNode root, long dataLength) throws ModelLoadException {
        if (root == null || !root.isObject()) {
            throw new ModelLoadException(file + " has a safetensors header that is not a JSON object");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode node = field.getValue();
            JsonNode offsets = node.path("data_offsets");
            JsonNode shapeNode = node.path("shape");
            if (!node.path("dtype").isTextual() || !shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw new ModelLoadException(file + ": tensor '" + field.getKey() + "' has a malformed header entry");
            }
            long[] shape = new long[shapeNode.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw new ModelLoadException(file + ": tensor '" + field.getKey() + "' has a negative dimension");
                }
                count = Math.multiplyExact(count, shape[i]);
            }
            String dtype = node.get("dtype").asText();
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            int width = bytesPerValue(dtype);
            if (begin < 0 || end < begin || end > dataLength || (width > 0 && end - begin != count * width)) {
                throw new ModelLoadException(file + ": tensor '" + field.getKey() + "' (" + dtype + " "
                        + Arrays.toString(shape) + ") has data offsets [" + begin + ", " + end
                        + "] that do not fit its shape or the file (is the file complete?)");
            }
            entries.put(field.getKey(), new Entry(dtype, shape, begin, end));
        }
        return Collections.unmodifiableMap(entries);
    }

    private static int bytesPerValue(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> 0;
        };
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

    /** The stored type of a tensor, e.g. {@code F32} or {@code BF16}. */
    public String dtype(String name) {
        return entry(name).dtype();
    }

    @Override
    public FloatBuffer floats(String name) {
        Entry entry = entry(name);
        ByteBuffer bytes = map(entry).order(ByteOrder.LITTLE_ENDIAN);
        switch (entry.dtype()) {
            case "F32":
                if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
                    return bytes.asFloatBuffer();
                }
                return copy(bytes.asFloatBuffer());
            case "F16":
            case "BF16":
                FloatBuffer out = direct(bytes.remaining() / 2);
                boolean half = entry.dtype().equals("F16");
                while (bytes.hasRemaining()) {
                    short bits = bytes.getShort();
                    out.put(half ? halfToFloat(bits) : Float.intBitsToFloat((bits & 0xffff) << 16));
                }
                return out.flip();
            default:
                throw new IllegalArgumentException(file + ": tensor '" + name + "' is " + entry.dtype()
                        + "; vitserve reads F32, F16 and BF16 weights");
        }
    }

    private Entry entry(String name) {
        Entry entry = entries.get(name);
        if (entry == null) {
            throw new IllegalArgumentException(file + " has no tensor '" + name + "'");
        }
        return entry;
    }

    private MappedByteBuffer map(Entry entry) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + entry.begin(), entry.end() - entry.begin());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static FloatBuffer direct(int count) {
        return ByteBuffer.allocateDirect(count * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static FloatBuffer copy(FloatBuffer source) {
        return direct(source.remaining()).put(source).flip();
    }

    /** IEEE 754 half precision to float, subnormals, infinities and NaN included. */
    static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            if (mantissa == 0) {
                return Float.intBitsToFloat(sign);
            }
            float value = mantissa / 16_777_216f; // 2^-24
            return sign != 0 ? -value : value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
