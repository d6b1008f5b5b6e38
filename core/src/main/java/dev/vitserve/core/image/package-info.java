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
 * <p>Which JPEG decoder, and why both are exact:
 * <ul>
 *   <li>libjpeg-turbo through its TurboJPEG API ({@link dev.vitserve.core.image.TurboJpegDecoder},
 *       bound with JNA), whenever {@code libturbojpeg.so.0} loads (Debian/Ubuntu package
 *       {@code libturbojpeg0}; system property {@code vitserve.turbojpeg.library} names another file,
 *       or {@code none}). It is the libjpeg-turbo Pillow decodes with (2.1.5 here, the one Debian's
 *       Pillow 9.4 links; Pillow's wheels bundle their own), run with Pillow's settings: full size (no DCT scaling), the accurate integer IDCT (ISLOW), fancy
 *       (interpolating) chroma upsampling, libjpeg's own colour-space guess and YCbCr/YCCK
 *       conversion. The pixels are left in a pooled native buffer and resized from there
 *       ({@link dev.vitserve.core.image.ImageDecoder#decodeForPreprocessing}). About twice as fast
 *       as the JDK's reader (measured: 600x400 and 12-megapixel photos).</li>
 *   <li>Otherwise the JDK's ImageIO reader through TwelveMonkeys
 *       ({@link dev.vitserve.core.image.JpegDecoder}), reading the raw components and converting
 *       them with libjpeg's integer arithmetic; the choice is logged once at INFO. Debian's and
 *       Ubuntu's OpenJDK link the same system libjpeg-turbo, so its pixels are Pillow's too.</li>
 * </ul>
 * Every JPEG fixture is checked on both paths. On damaged JPEGs the two differ a little: of 1200
 * randomly damaged copies of the fixture JPEGs, libjpeg-turbo's path judged 1193 as Pillow does
 * (accepted with Pillow's pixels, or refused), the JDK's path 1185.
 *
 * <p>Checked against Pillow 9.4 (libjpeg-turbo 2.1.5, libwebp 1.2.4) byte for byte for
 * baseline, progressive, grey, CMYK, RGB, arithmetic-coded and ICC-tagged JPEGs with 4:4:4, 4:2:2,
 * 4:2:0, 4:4:0, 4:1:1 and 3x1 chroma, EXIF orientations 1 to 8 (JPEG, PNG
 * eXIf / raw profile / XMP, WebP), 8- and 16-bit PNGs of every colour type, GIFs (first frame,
 * offset frames), BMPs (8, 16, 24, 32 bits) and WebP (lossless, lossy, alpha, animated: decoded by
 * libwebp, Pillow's own decoder, {@link dev.vitserve.core.image.WebpDecoder}). Where vitserve knowingly differs:
 * <ul>
 *   <li>16-bit grey PNG: vitserve keeps the high byte of each sample, as Pillow does for 16-bit
 *       RGB, RGBA and grey+alpha; Pillow itself saturates 16-bit grey at 255 (almost every pixel
 *       of a typical 16-bit grey image becomes white), a quirk not copied.</li>
 *   <li>JPEG exactness rests on decoding with the very libjpeg-turbo Pillow uses. A system without
 *       libturbojpeg whose JDK bundles IJG libjpeg 6b (e.g. Temurin) shares its integer IDCT and
 *       4:2:0 / 4:2:2 upsampling, but (not measured here, by the libraries' documented behaviour)
 *       repeats chroma rows for 4:4:0 where libjpeg-turbo interpolates, and cannot decode
 *       arithmetic coding (refused as damaged). Installing libturbojpeg0 avoids both.</li>
 *   <li>Damaged JPEGs: a JPEG whose data ends before an EOI marker is refused as truncated, as
 *       Pillow does (libjpeg would fill the rest with grey); libjpeg's warnings are decoded through,
 *       its errors refused. Some damage makes libjpeg skip a present EOI marker and run out of data:
 *       Pillow then refuses a progressive JPEG as truncated where vitserve takes it.</li>
 *   <li>CMYK and YCCK JPEG: converted naively without ICC, exactly as Pillow does (so matching
 *       Pillow, not the colours a colour-managed viewer shows).</li>
 *   <li>Damaged EXIF data counts as "no orientation", where Pillow may raise an error.</li>
 * </ul>
 */
package dev.vitserve.core.image;
