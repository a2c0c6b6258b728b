package org.bioclass.client;

import java.util.Locale;

/**
 * How {@link BioclassClient#predictTiles} cuts an image: tile size and stride in image pixels (0: the
 * model's input size, and no overlap), an optional region, how the tiles make the whole-image answer
 * ("mean" of their probabilities or "majority" vote), and optional background skipping.
 */
public final class TileSettings {
    private int tileSize;
    private int stride;
    private int[] region;
    private String aggregation = "mean";
    private int topK;
    private boolean skipBackground;
    private float backgroundLevel;
    private boolean darkBackground;
    private float minForeground;

    /** Side of a square tile; 0: the model's input size. */
    public TileSettings tileSize(int value) {
        tileSize = value;
        return this;
    }

    /** Pixels between tile origins; 0: the tile size. */
    public TileSettings stride(int value) {
        stride = value;
        return this;
    }

    /** Only this rectangle of the image (image pixels); null or an empty one: the whole image. */
    public TileSettings region(int x, int y, int width, int height) {
        region = width > 0 && height > 0 ? new int[] {x, y, width, height} : null;
        return this;
    }

    /** "mean" (of the tiles' probabilities) or "majority" (share of the tiles' votes). */
    public TileSettings aggregation(String value) {
        String name = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        if (!name.isEmpty() && !name.equals("mean") && !name.equals("majority")) {
            throw new IllegalArgumentException("aggregation must be mean or majority, not " + value);
        }
        aggregation = name.isEmpty() ? "mean" : name;
        return this;
    }

    /** Labels in each tile's and the whole image's top list; 0: the server's default (5). */
    public TileSettings topK(int value) {
        topK = value;
        return this;
    }

    /**
     * Skip tiles that are mostly background. level: intensity in [0, 1] separating background from
     * foreground (0: the server's 0.8); darkBackground: fluorescence (foreground is brighter than level);
     * minForeground: the share of foreground pixels a tile needs (0: the server's 0.05).
     */
    public TileSettings skipBackground(float level, boolean darkBackground, float minForeground) {
        this.skipBackground = true;
        this.backgroundLevel = level;
        this.darkBackground = darkBackground;
        this.minForeground = minForeground;
        return this;
    }

    public int tileSize() {
        return tileSize;
    }

    public int stride() {
        return stride;
    }

    /** {x, y, width, height}, or null for the whole image. */
    public int[] region() {
        return region == null ? null : region.clone();
    }

    public String aggregation() {
        return aggregation;
    }

    public int topK() {
        return topK;
    }

    public boolean skipsBackground() {
        return skipBackground;
    }

    public float backgroundLevel() {
        return backgroundLevel;
    }

    public boolean darkBackground() {
        return darkBackground;
    }

    public float minForeground() {
        return minForeground;
    }
}
