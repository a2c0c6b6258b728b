package org.bioclass.qupath;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bioclass.client.BioclassClient;
import org.bioclass.client.BufferedImages;
import org.bioclass.client.RegionResult;
import org.bioclass.client.Tile;
import org.bioclass.client.TileClassifier;

/**
 * The QuPath-independent part of the extension: regions read by QuPath (as BufferedImages) in, one
 * class and its measurements per region out. Plain Java, so it is tested against a real server
 * without QuPath (tests/java/test_region_logic.py).
 */
public final class RegionClassifier {
    private final TileClassifier tiles;
    private final String modelId;

    public RegionClassifier(BioclassClient client, String modelId, int topK) {
        this.tiles = new TileClassifier(client, modelId, topK);
        this.modelId = modelId;
    }

    /** One region: an object's id, its pixels (as readRegion returned them) and its bounds. */
    public static final class Region {
        final String id;
        final BufferedImage pixels;
        final Rectangle bounds;

        public Region(String id, BufferedImage pixels, Rectangle bounds) {
            this.id = id;
            this.pixels = pixels;
            this.bounds = bounds;
        }
    }

    /** Results in the order of the regions; a region the server refuses has failed() set. */
    public List<RegionResult> classify(List<Region> regions) {
        List<Tile> batch = new ArrayList<>(regions.size());
        for (Region region : regions) {
            batch.add(new Tile(region.id, BufferedImages.toInput(region.pixels, region.id), region.bounds.x,
                    region.bounds.y, region.bounds.width, region.bounds.height));
        }
        return tiles.classify(batch);
    }

    /** Measurement names and values to store on the object: "bioclass MODEL: LABEL" = probability. */
    public Map<String, Double> measurements(RegionResult result) {
        Map<String, Double> measurements = new LinkedHashMap<>();
        for (Map.Entry<String, Double> entry : result.probabilities().entrySet()) {
            measurements.put("bioclass " + modelId + ": " + entry.getKey(), entry.getValue());
        }
        return measurements;
    }

    /** Square tiles of tileSize covering a region, row by row; edge tiles are clipped to it. */
    public static List<Rectangle> tileGrid(Rectangle region, int tileSize) {
        if (tileSize < 1) {
            throw new IllegalArgumentException("tile size must be at least 1");
        }
        List<Rectangle> grid = new ArrayList<>();
        for (int y = region.y; y < region.y + region.height; y += tileSize) {
            for (int x = region.x; x < region.x + region.width; x += tileSize) {
                grid.add(new Rectangle(x, y, tileSize, tileSize).intersection(region));
            }
        }
        return grid;
    }
}
