package org.bioclass.imagej;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.measure.ResultsTable;
import ij.process.FloatProcessor;
import ij.process.ShortProcessor;
import java.util.List;
import org.bioclass.client.TileGrid;
import org.bioclass.client.TileMap;
import org.bioclass.client.TileResult;

/**
 * A tiled prediction as ImageJ images and Results rows. At the image's size each pixel takes the value
 * of the tile whose centre is nearest (outside the region: NaN and label 0), with the image's calibration;
 * at one pixel per tile the calibration's pixel size is the stride's, its origin set so the map lies over
 * the image (exact when the tiles are regular; the last row and column, aligned to the edge, overlap).
 */
final class TileImages {
    static final String[] SCALES = {"image size", "one pixel per tile"};

    private final TileMap map;
    private final Calibration source;
    private final boolean imageSize;
    private final int[] columnOf;
    private final int[] rowOf;

    TileImages(TileMap map, Calibration source, boolean imageSize) {
        this.map = map;
        this.source = source;
        this.imageSize = imageSize;
        TileGrid grid = map.grid();
        this.columnOf = imageSize ? grid.columnOfPixel() : identity(grid.columns());
        this.rowOf = imageSize ? grid.rowOfPixel() : identity(grid.rows());
    }

    /** 16-bit: 0 skipped or outside the region, else 1 + the index of the tile's best class. */
    ImagePlus labels(String title) {
        int[][] labels = map.labels();
        ShortProcessor pixels = new ShortProcessor(columnOf.length, rowOf.length);
        for (int y = 0; y < rowOf.length; y++) {
            for (int x = 0; x < columnOf.length; x++) {
                boolean inside = rowOf[y] >= 0 && columnOf[x] >= 0;
                pixels.set(x, y, inside ? labels[rowOf[y]][columnOf[x]] : TileMap.SKIPPED);
            }
        }
        pixels.setMinAndMax(0, map.grid().labels().size());
        ImagePlus out = new ImagePlus(title, pixels);
        out.setCalibration(calibration());
        out.setProperty("Info", info("label image: 0 skipped or outside, k = label k of " + map.grid().labels()));
        return out;
    }

    /** One 32-bit slice per class, named by its label, values 0 to 1 (NaN skipped or outside). */
    ImagePlus probabilities(String title) {
        float[][][] probabilities = map.probabilities();
        List<String> labels = map.grid().labels();
        ImageStack stack = new ImageStack(columnOf.length, rowOf.length);
        for (int k = 0; k < labels.size(); k++) {
            float[] pixels = new float[columnOf.length * rowOf.length];
            for (int y = 0; y < rowOf.length; y++) {
                for (int x = 0; x < columnOf.length; x++) {
                    boolean inside = rowOf[y] >= 0 && columnOf[x] >= 0;
                    pixels[y * columnOf.length + x] = inside ? probabilities[k][rowOf[y]][columnOf[x]] : Float.NaN;
                }
            }
            stack.addSlice(labels.get(k), new FloatProcessor(columnOf.length, rowOf.length, pixels));
        }
        ImagePlus out = new ImagePlus(title, stack);
        out.setCalibration(calibration());
        out.setDisplayRange(0, 1);
        out.setProperty("Info", info("class probabilities, one slice per label"));
        return out;
    }

    /** One row per tile: image, y, x, h, w, label, probability ("skipped" and NaN for a skipped tile). */
    static void addRow(ResultsTable table, String image, TileResult tile) {
        table.incrementCounter();
        table.addValue("image", ResultsRows.elide(image));
        table.addValue("y", tile.y());
        table.addValue("x", tile.x());
        table.addValue("h", tile.height());
        table.addValue("w", tile.width());
        table.addValue("label", tile.skipped() ? "skipped" : tile.label());
        table.addValue("probability", tile.skipped() ? Double.NaN : tile.probability());
    }

    private Calibration calibration() {
        Calibration out = source.copy();
        if (!imageSize) {
            TileGrid grid = map.grid();
            int[] region = grid.region();
            out.pixelWidth = source.pixelWidth * grid.stride();
            out.pixelHeight = source.pixelHeight * grid.stride();
            // Map pixel c spans the stride around tile c's centre, in the image's pixels.
            out.xOrigin = (source.xOrigin - region[0] - (grid.tileWidth() - grid.stride()) / 2.0) / grid.stride();
            out.yOrigin = (source.yOrigin - region[1] - (grid.tileHeight() - grid.stride()) / 2.0) / grid.stride();
        }
        return out;
    }

    private String info(String what) {
        TileGrid grid = map.grid();
        return "bioclass tiles\nmodel: " + grid.modelId() + "\n" + what + "\ntiles: " + grid.rows() + " x "
                + grid.columns() + " of " + grid.tileWidth() + "x" + grid.tileHeight() + ", stride " + grid.stride()
                + "\nwhole image: " + map.summary().label() + " (" + grid.aggregation() + ")\n";
    }

    private static int[] identity(int length) {
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = i;
        }
        return out;
    }
}
