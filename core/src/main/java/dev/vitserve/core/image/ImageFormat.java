package dev.vitserve.core.image;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The image formats vitserve accepts, recognised from their leading bytes (never from a file name or Content-Type). */
public enum ImageFormat {
    JPEG("JPEG"),
    PNG("PNG"),
    GIF("GIF"),
    BMP("BMP"),
    WEBP("WebP");

    private final String displayName;

    ImageFormat(String displayName) {
        this.displayName = displayName;
    }

    /** The name people know the format by, e.g. "WebP". */
    public String displayName() {
        return displayName;
    }

    /** "JPEG, PNG, GIF, BMP or WebP", for messages. */
    public static String acceptedList() {
        String all = Arrays.stream(values()).map(ImageFormat::displayName).collect(Collectors.joining(", "));
        int last = all.lastIndexOf(", ");
        return all.substring(0, last) + " or " + all.substring(last + 2);
    }

    /** The format whose signature starts {@code data}, if any. */
    public static Optional<ImageFormat> sniff(byte[] data) {
        if (data == null) {
            return Optional.empty();
        }
        if (startsWith(data, 0, 0xFF, 0xD8, 0xFF)) {
            return Optional.of(JPEG);
        }
        if (startsWith(data, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return Optional.of(PNG);
        }
        if (startsWith(data, 0, 'G', 'I', 'F', '8') && data.length >= 6
                && (data[4] == '7' || data[4] == '9') && data[5] == 'a') {
            return Optional.of(GIF);
        }
        if (startsWith(data, 0, 'B', 'M') && data.length >= 18) {
            return Optional.of(BMP);
        }
        if (startsWith(data, 0, 'R', 'I', 'F', 'F') && startsWith(data, 8, 'W', 'E', 'B', 'P')) {
            return Optional.of(WEBP);
        }
        return Optional.empty();
    }

    private static boolean startsWith(byte[] data, int offset, int... signature) {
        if (data.length < offset + signature.length) {
            return false;
        }
        for (int i = 0; i < signature.length; i++) {
            if ((data[offset + i] & 0xFF) != signature[i]) {
                return false;
            }
        }
        return true;
    }
}
