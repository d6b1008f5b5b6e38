package dev.vitserve.core.image;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/** Keyword and text of PNG tEXt, zTXt and iTXt chunks, with compressed text inflated up to a limit. */
final class PngTextChunk {

    private PngTextChunk() {
    }

    /** {@code {keyword, text}}, or null when the chunk is malformed or inflates past {@code limit} bytes. */
    static String[] keywordAndText(String type, byte[] body, int limit) {
        int nul = indexOf(body, 0, (byte) 0);
        if (nul <= 0) {
            return null;
        }
        String keyword = new String(body, 0, nul, StandardCharsets.ISO_8859_1);
        switch (type) {
            case "tEXt":
                return new String[] {keyword, new String(body, nul + 1, body.length - nul - 1, StandardCharsets.ISO_8859_1)};
            case "zTXt": {
                byte[] text = inflate(body, nul + 2, limit);
                return text == null ? null : new String[] {keyword, new String(text, StandardCharsets.ISO_8859_1)};
            }
            case "iTXt": {
                int flag = nul + 1;
                if (flag + 2 > body.length) {
                    return null;
                }
                boolean compressed = body[flag] == 1;
                int language = indexOf(body, flag + 2, (byte) 0);
                int translated = language < 0 ? -1 : indexOf(body, language + 1, (byte) 0);
                if (translated < 0) {
                    return null;
                }
                int start = translated + 1;
                byte[] text = compressed ? inflate(body, start, limit) : Arrays.copyOfRange(body, start, body.length);
                return text == null ? null : new String[] {keyword, new String(text, StandardCharsets.UTF_8)};
            }
            default:
                return null;
        }
    }

    private static int indexOf(byte[] data, int from, byte value) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == value) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] inflate(byte[] data, int offset, int limit) {
        if (offset > data.length) {
            return null;
        }
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(data, offset, data.length - offset);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                out.write(buffer, 0, n);
                if (out.size() > limit) {
                    return null;
                }
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            return null;
        } finally {
            inflater.end();
        }
    }
}
