package plugins.bioclass.classifier;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bioclass.client.BufferedImages;
import org.bioclass.client.RegionResult;
import org.bioclass.client.Tile;

/**
 * The Icy-independent part of the plugin: one plane of a sequence (an IcyBufferedImage is a
 * BufferedImage) and its ROIs' bounds in, one tile per ROI out (the whole plane when there is none),
 * and the results as tab-separated lines. Tested against a real server without Icy.
 */
public final class PlaneRegions {
    private PlaneRegions() {
    }

    /** Tiles named "t=T z=Z NAME"; ROIs are clipped to the plane and empty ones skipped. */
    public static List<Tile> tiles(BufferedImage plane, int t, int z, List<String> roiNames, List<Rectangle> roiBounds) {
        Rectangle whole = new Rectangle(0, 0, plane.getWidth(), plane.getHeight());
        List<Tile> tiles = new ArrayList<>();
        if (roiBounds.isEmpty()) {
            tiles.add(tile(plane, whole, "t=" + t + " z=" + z + " image"));
            return tiles;
        }
        for (int i = 0; i < roiBounds.size(); i++) {
            Rectangle inside = roiBounds.get(i).intersection(whole);
            if (!inside.isEmpty()) {
                tiles.add(tile(plane, inside, "t=" + t + " z=" + z + " " + roiNames.get(i)));
            }
        }
        return tiles;
    }

    /** "region<TAB>label<TAB>probability" rows, or the error for a refused region. */
    public static List<String> lines(List<RegionResult> results) {
        List<String> lines = new ArrayList<>();
        for (RegionResult result : results) {
            lines.add(result.failed() ? result.id() + "\tERROR\t" + result.error()
                    : String.format(Locale.ROOT, "%s\t%s\t%.4f", result.id(), result.label(), result.probability()));
        }
        return lines;
    }

    private static Tile tile(BufferedImage plane, Rectangle bounds, String id) {
        BufferedImage pixels = plane.getSubimage(bounds.x, bounds.y, bounds.width, bounds.height);
        return new Tile(id, BufferedImages.toInput(pixels, id), bounds.x, bounds.y, bounds.width, bounds.height);
    }
}
