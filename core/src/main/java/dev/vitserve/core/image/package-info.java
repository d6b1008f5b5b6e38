/**
 * Image decoding and preprocessing that reproduce Hugging Face's image-classification pipeline
 * (Pillow-based {@code ViTImageProcessor}) exactly.
 *
 * <p>{@link dev.vitserve.core.image.ImageDecoder} turns uploaded bytes into an upright
 * {@link dev.vitserve.core.image.RgbImage} like {@code ImageOps.exif_transpose(Image.open(f)).convert("RGB")};
 * {@link dev.vitserve.core.image.Preprocessor} resizes it with
 * {@link dev.vitserve.core.image.PillowResize} (Pillow's BILINEAR, bit for bit) and rescales and
 * normalizes it into the model's float32 CHW input as configured by
 * {@link dev.vitserve.core.image.PreprocessorConfig}.
 *
 * <p>Checked against Pillow 9.4 (libjpeg-turbo 2.1.5, libwebp 1.2.4) byte for byte for
 * baseline, progressive, grey, CMYK, RGB, arithmetic-coded and ICC-tagged JPEGs with 4:4:4, 4:2:2,
 * 4:2:0, 4:4:0 and 4:1:1 chroma, EXIF orientations 1 to 8 (JPEG, PNG
 * eXIf / raw profile / XMP, WebP), 8- and 16-bit PNGs of every colour type, GIFs (first frame,
 * offset frames), BMPs (8, 16, 24, 32 bits) and lossless WebP. Where vitserve knowingly differs:
 * <ul>
 *   <li>16-bit grey PNG: vitserve keeps the high byte of each sample, as Pillow does for 16-bit
 *       RGB, RGBA and grey+alpha; Pillow itself saturates 16-bit grey at 255 (almost every pixel
 *       of a typical 16-bit grey image becomes white), a quirk not copied.</li>
 *   <li>Lossy WebP: decoded by TwelveMonkeys' Java VP8 decoder, which repeats chroma samples and
 *       converts YUV its own way instead of libwebp's interpolating upsampler. Measured: a photo
 *       differs from libwebp by 2.0 levels on average, 28 at most; synthetic pictures with hard
 *       colour edges by 5.3 on average and up to 115 on those edges. Lossless WebP is exact.</li>
 *   <li>JPEG exactness rests on the JDK's JPEG library. Debian's and Ubuntu's OpenJDK link the
 *       system libjpeg-turbo, the very library Pillow uses: every JPEG variant tested is exact,
 *       including 4:4:0 and 4:1:1 chroma and arithmetic coding. JDKs that bundle IJG libjpeg 6b
 *       (e.g. Temurin) share its integer IDCT and 4:2:0 / 4:2:2 upsampling, but (not measured
 *       here, by the libraries' documented behaviour) repeat chroma
 *       rows for 4:4:0 where libjpeg-turbo interpolates, and cannot decode arithmetic coding
 *       (refused as damaged). The pluggable JPEG decoder is the way out if that matters.</li>
 *   <li>CMYK and YCCK JPEG: converted naively without ICC, exactly as Pillow does (so matching
 *       Pillow, not the colours a colour-managed viewer shows).</li>
 *   <li>Damaged EXIF data counts as "no orientation", where Pillow may raise an error.</li>
 * </ul>
 */
package dev.vitserve.core.image;
