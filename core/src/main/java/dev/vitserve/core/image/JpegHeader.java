package dev.vitserve.core.image;

import com.drew.imaging.jpeg.JpegMetadataReader;
import com.drew.imaging.jpeg.JpegProcessingException;
import com.drew.imaging.jpeg.JpegSegmentMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.adobe.AdobeJpegDirectory;
import com.drew.metadata.adobe.AdobeJpegReader;
import com.drew.metadata.jfif.JfifDirectory;
import com.drew.metadata.jfif.JfifReader;
import com.drew.metadata.jpeg.JpegComponent;
import com.drew.metadata.jpeg.JpegDirectory;
import com.drew.metadata.jpeg.JpegReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;

/**
 * What a JPEG's marker segments say about how to read it, parsed with metadata-extractor: the
 * markers libjpeg uses to guess the colour space (JFIF APP0, Adobe APP14 transform, the frame's
 * component ids), for the JDK decoding path, which gets the raw components ({@link JpegColor}).
 *
 * @param jfif whether a JFIF APP0 segment is present
 * @param adobeTransform the Adobe APP14 colour transform (0, 1 or 2), or -1 without that segment
 * @param componentIds the component ids of the frame header, in order (empty if unknown)
 */
record JpegHeader(boolean jfif, int adobeTransform, int[] componentIds) {

    /** The header facts of a JPEG; missing or unreadable segments give the defaults. */
    static JpegHeader read(byte[] data) {
        Metadata metadata;
        try {
            List<JpegSegmentMetadataReader> readers =
                    List.of(new JpegReader(), new JfifReader(), new AdobeJpegReader());
            metadata = JpegMetadataReader.readMetadata(new ByteArrayInputStream(data), readers);
        } catch (JpegProcessingException | IOException | RuntimeException e) {
            return new JpegHeader(false, -1, new int[0]);
        }
        boolean jfif = metadata.containsDirectoryOfType(JfifDirectory.class);
        int adobeTransform = -1;
        for (AdobeJpegDirectory adobe : metadata.getDirectoriesOfType(AdobeJpegDirectory.class)) {
            Integer transform = adobe.getInteger(AdobeJpegDirectory.TAG_COLOR_TRANSFORM);
            if (transform != null) {
                adobeTransform = transform; // libjpeg keeps the last one it sees
            }
        }
        int[] ids = new int[0];
        JpegDirectory frame = metadata.getFirstDirectoryOfType(JpegDirectory.class);
        if (frame != null) {
            Integer count = frame.getInteger(JpegDirectory.TAG_NUMBER_OF_COMPONENTS);
            if (count != null && count > 0 && count <= 4) {
                ids = new int[count];
                for (int i = 0; i < count; i++) {
                    JpegComponent component = frame.getComponent(i);
                    ids[i] = component == null ? -1 : component.getComponentId();
                }
            }
        }
        return new JpegHeader(jfif, adobeTransform, ids);
    }
}
