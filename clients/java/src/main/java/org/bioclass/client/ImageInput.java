package org.bioclass.client;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One image to classify: either the bytes of an image file (PNG, JPEG, TIFF, BMP) or raw pixels.
 * Raw pixels travel little-endian in (y, x) or (y, x, c) order, so an ImageJ or QuPath image is
 * sent as it is, without encoding it first.
 */
public final class ImageInput {
    private final String name;
    private final byte[] encoded;
    private final PixelType type;
    private final int width;
    private final int height;
    private final int channels;
    private final byte[] pixels;

    private ImageInput(String name, byte[] encoded, PixelType type, int width, int height, int channels,
                       byte[] pixels) {
        this.name = name == null ? "" : name;
        this.encoded = encoded;
        this.type = type;
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.pixels = pixels;
    }

    /** The bytes of an image file; the server detects the format. */
    public static ImageInput encoded(byte[] fileBytes, String name) {
        return new ImageInput(name, fileBytes, null, 0, 0, 0, null);
    }

    /** 8-bit grayscale, row by row (ImageJ's ByteProcessor pixels). */
    public static ImageInput gray8(byte[] pixels, int width, int height, String name) {
        checkLength(pixels.length, width, height, 1);
        return new ImageInput(name, null, PixelType.UINT8, width, height, 0, pixels.clone());
    }

    /** 16-bit grayscale, unsigned values stored in Java shorts (ImageJ's ShortProcessor pixels). */
    public static ImageInput gray16(short[] pixels, int width, int height, String name) {
        checkLength(pixels.length, width, height, 1);
        ByteBuffer buffer = littleEndian(pixels.length * 2);
        buffer.asShortBuffer().put(pixels);
        return new ImageInput(name, null, PixelType.UINT16, width, height, 0, buffer.array());
    }

    /** 32-bit float grayscale (ImageJ's FloatProcessor pixels). */
    public static ImageInput gray32(float[] pixels, int width, int height, String name) {
        checkLength(pixels.length, width, height, 1);
        ByteBuffer buffer = littleEndian(pixels.length * 4);
        buffer.asFloatBuffer().put(pixels);
        return new ImageInput(name, null, PixelType.FLOAT32, width, height, 0, buffer.array());
    }

    /** RGB packed as 0xAARRGGBB ints (ImageJ's ColorProcessor, java.awt.image.BufferedImage.getRGB). */
    public static ImageInput rgb(int[] packed, int width, int height, String name) {
        checkLength(packed.length, width, height, 1);
        byte[] interleaved = new byte[packed.length * 3];
        for (int i = 0; i < packed.length; i++) {
            interleaved[3 * i] = (byte) (packed[i] >> 16);
            interleaved[3 * i + 1] = (byte) (packed[i] >> 8);
            interleaved[3 * i + 2] = (byte) packed[i];
        }
        return new ImageInput(name, null, PixelType.UINT8, width, height, 3, interleaved);
    }

    /** Any raw pixels already little-endian in (y, x, c) order; channels 0 means grayscale (y, x). */
    public static ImageInput raw(PixelType type, byte[] littleEndian, int width, int height, int channels,
                                 String name) {
        int expected = width * height * Math.max(channels, 1) * type.bytesPerSample();
        if (littleEndian.length != expected) {
            throw new IllegalArgumentException(littleEndian.length + " bytes given, " + width + "x" + height
                    + "x" + Math.max(channels, 1) + " " + type + " needs " + expected);
        }
        return new ImageInput(name, null, type, width, height, channels, littleEndian.clone());
    }

    public String name() {
        return name;
    }

    public boolean isEncoded() {
        return encoded != null;
    }

    public byte[] encodedBytes() {
        return encoded;
    }

    public PixelType type() {
        return type;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** 0 for a grayscale (y, x) image, else the number of interleaved channels. */
    public int channels() {
        return channels;
    }

    public byte[] pixelBytes() {
        return pixels;
    }

    private static ByteBuffer littleEndian(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void checkLength(int length, int width, int height, int channels) {
        if (width <= 0 || height <= 0 || length != width * height * channels) {
            throw new IllegalArgumentException(length + " pixels given for a " + width + "x" + height + " image");
        }
    }
}
