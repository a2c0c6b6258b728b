package org.bioclass.qupath;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bioclass.client.BioclassClient;
import org.bioclass.client.BufferedImages;
import org.bioclass.client.TileGrid;
import org.bioclass.client.TileListener;
import org.bioclass.client.TileMap;
import org.bioclass.client.TileResult;
import org.bioclass.client.TileRow;
import org.bioclass.client.TileSettings;

/**
 * The QuPath-independent part of "Classify tiles": a region read by QuPath (at a downsample) goes to the
 * server's tiled prediction, and each classified tile comes back as a detection tile in full-resolution
 * pixels with its class (the tile's best label) and one measurement per class, "bioclass MODEL: LABEL" =
 * probability, as WSInfer writes them. Tiles skipped as background make no detection. Plain Java, tested
 * against a real server without QuPath (tests/java/test_java_tile_maps.py).
 */
public final class TileMapClassifier {
    private final BioclassClient client;
    private final String modelId;
    private final TileSettings settings;

    /** settings: tile size and stride in pixels of the region as read (at the downsample). */
    public TileMapClassifier(BioclassClient client, String modelId, TileSettings settings) {
        this.client = client;
        this.modelId = modelId;
        this.settings = settings;
    }

    /** A detection tile: full-resolution bounds, class name and measurements. */
    public static final class DetectionTile {
        private final Rectangle bounds;
        private final String pathClass;
        private final Map<String, Double> measurements;

        DetectionTile(Rectangle bounds, String pathClass, Map<String, Double> measurements) {
            this.bounds = bounds;
            this.pathClass = pathClass;
            this.measurements = Collections.unmodifiableMap(measurements);
        }

        public Rectangle bounds() {
            return new Rectangle(bounds);
        }

        public String pathClass() {
            return pathClass;
        }

        /** "bioclass MODEL: LABEL" = probability, every label of the model, in its order. */
        public Map<String, Double> measurements() {
            return measurements;
        }

        @Override
        public String toString() {
            return pathClass + " " + bounds.x + "," + bounds.y + " " + bounds.width + "x" + bounds.height + " "
                    + measurements;
        }
    }

    /** The result: the detections of the classified tiles and the map they came from. */
    public static final class Result {
        private final List<DetectionTile> detections;
        private final TileMap map;

        Result(List<DetectionTile> detections, TileMap map) {
            this.detections = Collections.unmodifiableList(detections);
            this.map = map;
        }

        public List<DetectionTile> detections() {
            return detections;
        }

        public TileMap map() {
            return map;
        }
    }

    /**
     * pixels: what readRegion returned for bounds (full-resolution pixels) at downsample. progress (may be
     * null) sees each row of tiles as it arrives, e.g. for a progress bar.
     */
    public Result classify(BufferedImage pixels, Rectangle bounds, double downsample, TileListener progress) {
        Detections detections = new Detections(bounds, downsample, progress);
        TileMap map = client.predictTiles(modelId, BufferedImages.toInput(pixels, modelId + " tiles"), settings,
                detections);
        return new Result(detections.tiles, map);
    }

    /** Turns each row's classified tiles into detections as the rows arrive. */
    private final class Detections implements TileListener {
        private final Rectangle bounds;
        private final double downsample;
        private final TileListener progress;
        private final List<DetectionTile> tiles = new ArrayList<>();
        private List<String> labels = Collections.emptyList();

        Detections(Rectangle bounds, double downsample, TileListener progress) {
            this.bounds = bounds;
            this.downsample = downsample;
            this.progress = progress;
        }

        @Override
        public void grid(TileGrid grid) {
            labels = grid.labels();
            if (progress != null) {
                progress.grid(grid);
            }
        }

        @Override
        public void row(TileRow row) {
            for (TileResult tile : row.tiles()) {
                if (!tile.skipped()) {
                    tiles.add(new DetectionTile(fullResolution(tile), tile.label(), measurements(tile)));
                }
            }
            if (progress != null) {
                progress.row(row);
            }
        }

        private Map<String, Double> measurements(TileResult tile) {
            float[] probabilities = tile.probabilities();
            Map<String, Double> out = new LinkedHashMap<>();
            for (int k = 0; k < labels.size() && k < probabilities.length; k++) {
                out.put("bioclass " + modelId + ": " + labels.get(k), (double) probabilities[k]);
            }
            return out;
        }

        /** The tile's pixels (in the region as read) back in the slide's full-resolution pixels. */
        private Rectangle fullResolution(TileResult tile) {
            int x = bounds.x + (int) Math.round(tile.x() * downsample);
            int y = bounds.y + (int) Math.round(tile.y() * downsample);
            int right = Math.min(bounds.x + bounds.width,
                    bounds.x + (int) Math.round((tile.x() + tile.width()) * downsample));
            int bottom = Math.min(bounds.y + bounds.height,
                    bounds.y + (int) Math.round((tile.y() + tile.height()) * downsample));
            return new Rectangle(x, y, right - x, bottom - y);
        }
    }
}
