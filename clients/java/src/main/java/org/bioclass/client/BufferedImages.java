package org.bioclass.client;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A java.awt BufferedImage (what QuPath's readRegion and Icy's IcyBufferedImage are) as raw pixels:
 * 8-bit bands stay 8-bit, 16-bit unsigned stay 16-bit, anything else becomes float32; bands are
 * interleaved channels last. Packed (TYPE_INT_RGB/ARGB) and indexed-colour images are sent as RGB.
 */
public final class BufferedImages {
    private BufferedImages() {
    }

    public static ImageInput toInput(BufferedImage image, String name) {
        if (image.getColorModel() instanceof IndexColorModel || image.getColorModel() instanceof DirectColorModel) {
            return ImageInput.rgb(image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0,
                    image.getWidth()), image.getWidth(), image.getHeight(), name);
        }
        Raster raster = image.getRaster();
        int bands = raster.getNumBands();
        int bandsSent = image.getColorModel().hasAlpha() && bands == 4 ? 3 : bands;  // drop RGBA's alpha
        int channels = bandsSent == 1 ? 0 : bandsSent;
        PixelType type = typeOf(raster.getDataBuffer().getDataType());
        byte[] data = interleave(raster, bandsSent, type);
        return ImageInput.raw(type, data, image.getWidth(), image.getHeight(), channels, name);
    }

    private static PixelType typeOf(int dataType) {
        switch (dataType) {
            case DataBuffer.TYPE_BYTE:
                return PixelType.UINT8;
            case DataBuffer.TYPE_USHORT:
                return PixelType.UINT16;
            default:
                return PixelType.FLOAT32;
        }
    }

    private static byte[] interleave(Raster raster, int bands, PixelType type) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        ByteBuffer out = ByteBuffer.allocate(width * height * bands * type.bytesPerSample())
                .order(ByteOrder.LITTLE_ENDIAN);
        float[] samples = new float[bands];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                raster.getPixel(raster.getMinX() + x, raster.getMinY() + y, samples);
                for (int band = 0; band < bands; band++) {
                    put(out, type, samples[band]);
                }
            }
        }
        return out.array();
    }

    private static void put(ByteBuffer out, PixelType type, float sample) {
        switch (type) {
            case UINT8:
                out.put((byte) (int) sample);
                break;
            case UINT16:
                out.putShort((short) (int) sample);
                break;
            default:
                out.putFloat(sample);
        }
    }
}
