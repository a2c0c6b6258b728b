package org.bioclass.client;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The grid of a tiled prediction, the first thing the server answers: tile (row r, column c) covers
 * x = columnOrigin(c), y = rowOrigin(r), tileWidth() x tileHeight() image pixels (region offset
 * included). Origins are every stride() pixels, the last row and column aligned to the region's edge.
 */
public final class TileGrid {
    private final String name;
    private final String modelId;
    private final int imageWidth;
    private final int imageHeight;
    private final int[] region;
    private final int tileWidth;
    private final int tileHeight;
    private final int stride;
    private final int[] rowOrigins;
    private final int[] columnOrigins;
    private final List<String> labels;
    private final String aggregation;

    TileGrid(String name, String modelId, int imageWidth, int imageHeight, int[] region, int tileWidth,
             int tileHeight, int stride, int[] rowOrigins, int[] columnOrigins, List<String> labels,
             String aggregation) {
        this.name = name;
        this.modelId = modelId;
        this.imageWidth = imageWidth;
        this.imageHeight = imageHeight;
        this.region = region.clone();
        this.tileWidth = tileWidth;
        this.tileHeight = tileHeight;
        this.stride = stride;
        this.rowOrigins = rowOrigins.clone();
        this.columnOrigins = columnOrigins.clone();
        this.labels = Collections.unmodifiableList(labels);
        this.aggregation = aggregation;
    }

    public String name() {
        return name;
    }

    public String modelId() {
        return modelId;
    }

    public int imageWidth() {
        return imageWidth;
    }

    public int imageHeight() {
        return imageHeight;
    }

    /** The rectangle tiled, {x, y, width, height} (the whole image when none was asked for). */
    public int[] region() {
        return region.clone();
    }

    public int tileWidth() {
        return tileWidth;
    }

    public int tileHeight() {
        return tileHeight;
    }

    public int stride() {
        return stride;
    }

    public int rows() {
        return rowOrigins.length;
    }

    public int columns() {
        return columnOrigins.length;
    }

    public int rowOrigin(int row) {
        return rowOrigins[row];
    }

    public int columnOrigin(int column) {
        return columnOrigins[column];
    }

    /**
     * For each image column x (0 to imageWidth() - 1), the map column whose tile centre is nearest
     * (ties: the earlier tile), or -1 outside the region: how a map is drawn at the image's size.
     */
    public int[] columnOfPixel() {
        return nearestTile(columnOrigins, tileWidth, region[0], region[2], imageWidth);
    }

    /** For each image row y, the map row whose tile centre is nearest, or -1 outside the region. */
    public int[] rowOfPixel() {
        return nearestTile(rowOrigins, tileHeight, region[1], region[3], imageHeight);
    }

    private static int[] nearestTile(int[] origins, int tile, int start, int length, int size) {
        int[] nearest = new int[size];
        Arrays.fill(nearest, -1);
        int i = 0;
        for (int pixel = Math.max(start, 0); pixel < Math.min(start + length, size) && origins.length > 0; pixel++) {
            double centre = pixel + 0.5;
            while (i + 1 < origins.length
                    && Math.abs(centre - origins[i + 1] - tile / 2.0) < Math.abs(centre - origins[i] - tile / 2.0)) {
                i++;
            }
            nearest[pixel] = i;
        }
        return nearest;
    }

    /** The model's labels: the class axis of the map. */
    public List<String> labels() {
        return labels;
    }

    /** "mean" or "majority". */
    public String aggregation() {
        return aggregation;
    }

    @Override
    public String toString() {
        return name + ": " + rows() + " x " + columns() + " tiles of " + tileWidth + "x" + tileHeight + ", stride "
                + stride + ", labels " + labels;
    }
}
