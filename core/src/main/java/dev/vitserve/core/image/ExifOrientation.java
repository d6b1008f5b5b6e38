package dev.vitserve.core.image;

import com.drew.imaging.png.PngChunk;
import com.drew.imaging.png.PngChunkReader;
import com.drew.imaging.png.PngChunkType;
import com.drew.lang.ByteArrayReader;
import com.drew.lang.SequentialByteArrayReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.MetadataException;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds an image's EXIF orientation (1..8) where Pillow 9's {@code getexif()} finds it, parsing
 * the EXIF (TIFF) data with metadata-extractor:
 *
 * <ul>
 *   <li>JPEG: the first APP1 segment starting "Exif\0" before the first scan, found by a cheap marker
 *       walk ({@link JpegMarkers#firstExifPayload}); only its TIFF data goes to metadata-extractor.</li>
 *   <li>PNG: the eXIf chunk; without one, a "Raw profile type exif" text chunk (ImageMagick's
 *       hex form); when neither gives an orientation, {@code tiff:Orientation} in an XMP
 *       ("XML:com.adobe.xmp") text chunk. Compressed text is inflated up to 1 MB, as Pillow limits it.</li>
 *   <li>WebP: the first EXIF chunk of the RIFF container.</li>
 *   <li>GIF, BMP: none.</li>
 * </ul>
 * Damaged metadata counts as "no orientation" (1).
 */
final class ExifOrientation {

    /** Pillow's limit for one decompressed PNG text chunk (ImageFile.SAFEBLOCK). */
    private static final int MAX_TEXT_CHUNK = 1 << 20;

    private static final Pattern XMP_ORIENTATION = Pattern.compile("tiff:Orientation(=\"|>)([0-9])");
    private static final byte[] EXIF_PREAMBLE = "Exif\0\0".getBytes(StandardCharsets.ISO_8859_1);

    private ExifOrientation() {
    }

    /** The orientation stored in the image, or 1 when there is none. */
    static int read(ImageFormat format, byte[] data) {
        try {
            return switch (format) {
                case JPEG -> ofJpeg(data);
                case PNG -> ofPng(data);
                case WEBP -> ofWebp(data);
                case GIF, BMP -> 1;
            };
        } catch (RuntimeException e) {
            return 1;
        }
    }

    /** The orientation tag of an IFD0 directory, or 1. */
    private static int orientationOf(ExifIFD0Directory ifd0) {
        if (ifd0 == null || !ifd0.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) {
            return 1;
        }
        try {
            int value = ifd0.getInt(ExifIFD0Directory.TAG_ORIENTATION);
            return value >= 1 && value <= 8 ? value : 1;
        } catch (MetadataException e) {
            return 1;
        }
    }

    /** The orientation in EXIF data (a TIFF structure, with or without the "Exif\0\0" preamble); 0 if it has none. */
    static int ofExif(byte[] exif) {
        int start = startsWith(exif, EXIF_PREAMBLE) ? EXIF_PREAMBLE.length : 0;
        Metadata metadata = new Metadata();
        new ExifReader().extract(new ByteArrayReader(exif), metadata, start);
        ExifIFD0Directory ifd0 = metadata.getFirstDirectoryOfType(ExifIFD0Directory.class);
        return ifd0 != null && ifd0.containsTag(ExifIFD0Directory.TAG_ORIENTATION) ? orientationOf(ifd0) : 0;
    }

    private static int ofJpeg(byte[] data) {
        byte[] exif = JpegMarkers.firstExifPayload(data);
        int orientation = exif == null ? 0 : ofExif(exif);
        return orientation >= 1 && orientation <= 8 ? orientation : 1;
    }

    private static int ofPng(byte[] data) {
        byte[] exif = null;
        String rawProfile = null;
        String xmp = null;
        try {
            Iterable<PngChunk> chunks = new PngChunkReader().extract(new SequentialByteArrayReader(data),
                    Set.of(PngChunkType.eXIf, PngChunkType.tEXt, PngChunkType.zTXt, PngChunkType.iTXt));
            for (PngChunk chunk : chunks) {
                PngChunkType type = chunk.getType();
                if (type.equals(PngChunkType.eXIf)) {
                    exif = chunk.getBytes();
                    continue;
                }
                String[] text = PngTextChunk.keywordAndText(type.getIdentifier(), chunk.getBytes(), MAX_TEXT_CHUNK);
                if (text == null) {
                    continue;
                }
                if (text[0].equals("Raw profile type exif")) {
                    rawProfile = text[1];
                } else if (text[0].equals("XML:com.adobe.xmp")) {
                    xmp = text[1];
                }
            }
        } catch (Exception e) {
            // unreadable chunks: use what was found before them
        }
        int orientation = 0;
        if (exif != null) {
            orientation = ofExif(exif);
        } else if (rawProfile != null) {
            orientation = ofRawProfile(rawProfile);
        }
        if (orientation == 0 && xmp != null) {
            Matcher match = XMP_ORIENTATION.matcher(xmp);
            if (match.find()) {
                orientation = Integer.parseInt(match.group(2));
            }
        }
        return orientation >= 1 && orientation <= 8 ? orientation : 1;
    }

    /** ImageMagick's "Raw profile type exif": a header of three lines, then the EXIF bytes in hex. */
    private static int ofRawProfile(String profile) {
        String[] lines = profile.split("\n", -1);
        StringBuilder hex = new StringBuilder();
        for (int i = 3; i < lines.length; i++) {
            hex.append(lines[i]);
        }
        String digits = hex.toString().replaceAll("\\s+", "");
        try {
            return ofExif(HexFormat.of().parseHex(digits));
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    private static int ofWebp(byte[] data) {
        // RIFF header (12 bytes), then chunks: FourCC, little-endian size, payload padded to even length
        int p = 12;
        while (p + 8 <= data.length) {
            long size = (data[p + 4] & 0xFFL) | (data[p + 5] & 0xFFL) << 8 | (data[p + 6] & 0xFFL) << 16
                    | (data[p + 7] & 0xFFL) << 24;
            int payload = p + 8;
            if (size > data.length - payload) {
                return 1;
            }
            if (data[p] == 'E' && data[p + 1] == 'X' && data[p + 2] == 'I' && data[p + 3] == 'F') {
                byte[] exif = new byte[(int) size];
                System.arraycopy(data, payload, exif, 0, exif.length);
                int orientation = ofExif(exif);
                return orientation == 0 ? 1 : orientation;
            }
            p = payload + (int) size + (int) (size & 1);
        }
        return 1;
    }

    private static boolean startsWith(byte[] data, byte[] prefix) {
        if (data.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (data[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
