package dev.vitserve.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.testkit.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/** The Pillow references made by testkit/tools/make-pillow-references.py, and helpers to compare with them. */
final class PillowReference {

    private static JsonNode reference;

    private PillowReference() {
    }

    static synchronized JsonNode json() {
        if (reference == null) {
            reference = Fixtures.json(Fixtures.root().resolve("pillow").resolve("reference.json"));
        }
        return reference;
    }

    /** Paths relative to the fixtures folder of every file with a decode reference. */
    static List<String> decodedFiles() {
        List<String> names = new ArrayList<>();
        json().get("decode").fieldNames().forEachRemaining(names::add);
        return names;
    }

    static JsonNode decode(String file) {
        return json().get("decode").get(file);
    }

    static Path file(String relative) {
        return Fixtures.root().resolve(relative);
    }

    static byte[] bytes(String relative) {
        return Fixtures.bytes(file(relative));
    }

    /** Pillow's RGB result of a synthetic image, kept as a PNG for diagnosis, or null. */
    static Path expectedPng(String relative) {
        Path png = Fixtures.root().resolve("pillow").resolve("expected")
                .resolve(Path.of(relative).getFileName() + ".png");
        return png.toFile().isFile() ? png : null;
    }

    /** {@code data} with the edits of a "damaged" reference case applied (see make-pillow-references.py). */
    static byte[] damage(byte[] data, JsonNode edits) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] current = data.clone();
        for (JsonNode edit : edits) {
            switch (edit.get(0).asText()) {
                case "cut" -> current = Arrays.copyOf(current, edit.get(1).asInt());
                case "fill" -> Arrays.fill(current, edit.get(1).asInt(), edit.get(2).asInt(), (byte) edit.get(3).asInt());
                case "set" -> current[edit.get(1).asInt()] = (byte) edit.get(2).asInt();
                case "insert" -> {
                    int at = edit.get(1).asInt() >= 0 ? edit.get(1).asInt() : current.length + edit.get(1).asInt();
                    out.reset();
                    out.write(current, 0, at);
                    for (JsonNode b : edit.get(2)) {
                        out.write(b.asInt());
                    }
                    out.write(current, at, current.length - at);
                    current = out.toByteArray();
                }
                default -> throw new IllegalArgumentException("unknown edit " + edit);
            }
        }
        return current;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return sha256(bytes.array());
    }

    /** "n of m bytes differ, by at most d", for failure messages. */
    static String difference(RgbImage actual, RgbImage expected) {
        if (actual.width() != expected.width() || actual.height() != expected.height()) {
            return "size " + actual.width() + "x" + actual.height() + " instead of " + expected.width() + "x" + expected.height();
        }
        int differing = 0;
        int max = 0;
        byte[] a = actual.pixels();
        byte[] e = expected.pixels();
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xFF) - (e[i] & 0xFF));
            if (d != 0) {
                differing++;
                max = Math.max(max, d);
            }
        }
        return differing + " of " + a.length + " bytes differ, by at most " + max;
    }
}
