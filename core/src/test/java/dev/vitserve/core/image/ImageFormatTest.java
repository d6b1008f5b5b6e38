package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Formats are recognised from their leading bytes only. */
class ImageFormatTest {

    @Test
    void recognisesEachFixtureFormat() {
        assertEquals(Optional.of(ImageFormat.JPEG), ImageFormat.sniff(PillowReference.bytes("images/coffee.jpg")));
        assertEquals(Optional.of(ImageFormat.PNG), ImageFormat.sniff(PillowReference.bytes("images/chelsea.png")));
        assertEquals(Optional.of(ImageFormat.GIF), ImageFormat.sniff(PillowReference.bytes("images-extra/animated.gif")));
        assertEquals(Optional.of(ImageFormat.BMP), ImageFormat.sniff(PillowReference.bytes("images-extra/rgb24.bmp")));
        assertEquals(Optional.of(ImageFormat.WEBP), ImageFormat.sniff(PillowReference.bytes("images-extra/lossy.webp")));
    }

    @Test
    void rejectsOtherBytes() {
        assertTrue(ImageFormat.sniff(new byte[0]).isEmpty());
        assertTrue(ImageFormat.sniff(null).isEmpty());
        assertTrue(ImageFormat.sniff("hello, world".getBytes()).isEmpty());
        assertTrue(ImageFormat.sniff(new byte[] {(byte) 0xFF, (byte) 0xD8}).isEmpty(), "too short for JPEG");
        assertTrue(ImageFormat.sniff("RIFF\0\0\0\0WAVEfmt ".getBytes()).isEmpty(), "RIFF but not WebP");
        assertTrue(ImageFormat.sniff("GIF87b".getBytes()).isEmpty());
    }

    @Test
    void listsTheAcceptedFormatsForMessages() {
        assertEquals("JPEG, PNG, GIF, BMP or WebP", ImageFormat.acceptedList());
    }
}
