package plugins.bioclass.classifier;

import java.awt.Point;
import java.awt.Rectangle;
import java.awt.color.ColorSpace;
import java.awt.image.BandedSampleModel;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.TileClassifier;

/**
 * Runs PlaneRegions as the Icy plugin would, on planes laid out like IcyBufferedImage (banded
 * channels): 3-channel float32 and 1-channel uint16 and 8-bit, left half bright, right half dark, with ROIs
 * over each half, one outside the plane, and no ROI. Usage: PlaneRegionsCheck HOST:PORT MODEL.
 */
public final class PlaneRegionsCheck {
    public static void main(String[] args) {
        List<String> names = Arrays.asList("left", "right", "outside");
        List<Rectangle> bounds = Arrays.asList(new Rectangle(0, 0, 16, 16), new Rectangle(16, 0, 16, 16),
                new Rectangle(100, 100, 5, 5));
        try (GrpcBioclassClient client = new GrpcBioclassClient(args[0], 20)) {
            TileClassifier classifier = new TileClassifier(client, args[1], 1, 2);
            BufferedImage floats = plane(DataBuffer.TYPE_FLOAT, 3, 1f, 16);
            BufferedImage shorts = plane(DataBuffer.TYPE_USHORT, 1, 65535f, 16);
            print("float3", classifier, PlaneRegions.tiles(floats, 0, 0, names, bounds));
            print("uint16", classifier, PlaneRegions.tiles(shorts, 0, 1, names, bounds));
            BufferedImage allBright = plane(DataBuffer.TYPE_BYTE, 1, 255f, 32);
            print("whole", classifier, PlaneRegions.tiles(allBright, 1, 0, Collections.<String>emptyList(),
                    Collections.<Rectangle>emptyList()));
        }
    }

    private static void print(String kind, TileClassifier classifier, List<org.bioclass.client.Tile> tiles) {
        for (String line : PlaneRegions.lines(classifier.classify(tiles))) {
            System.out.println(kind + "\t" + line);
        }
    }

    /** A 32x16 banded plane whose brightWidth left columns hold `bright` and the others 0. */
    private static BufferedImage plane(int dataType, int channels, float bright, int brightWidth) {
        BandedSampleModel model = new BandedSampleModel(dataType, 32, 16, channels);
        WritableRaster raster = Raster.createWritableRaster(model, new Point(0, 0));
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < brightWidth; x++) {
                    raster.setSample(x, y, c, bright);
                }
            }
        }
        ColorSpace space = ColorSpace.getInstance(channels == 3 ? ColorSpace.CS_sRGB : ColorSpace.CS_GRAY);
        ComponentColorModel colors = new ComponentColorModel(space, false, false, ComponentColorModel.OPAQUE,
                dataType);
        return new BufferedImage(colors, raster, false, null);
    }
}
