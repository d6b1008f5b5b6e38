package dev.vitserve.core.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The hashes the Hub names files by: sha256 of the content for LFS files, the git blob sha1 for the others. */
final class ContentHash {

    private ContentHash() {
    }

    /** Hex sha256 of the file's bytes (reads the whole file: call it off the event loop). */
    static String sha256(Path file) throws IOException {
        return hex(digest("SHA-256", file, null));
    }

    /** Hex sha1 of {@code "blob <size>\0"} followed by the bytes, as {@code git hash-object} computes. */
    static String gitBlobSha1(Path file) throws IOException {
        byte[] header = ("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII);
        return hex(digest("SHA-1", file, header));
    }

    private static byte[] digest(String algorithm, Path file, byte[] prefix) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every Java runtime", e);
        }
        if (prefix != null) {
            digest.update(prefix);
        }
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return digest.digest();
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
