package org.bioclass.client;

import java.util.Arrays;

/**
 * A tiled prediction put together: the probability map [class][row][column] (float, NaN where a tile
 * was skipped), the label map [row][column] (1 + the index of the best class, 0 where a tile was
 * skipped: background, as label images read it and as the Python client's ClassMap lays it out) and
 * the whole-image answer. {@link Assembler} builds it from the grid and rows as they arrive.
 */
public final class TileMap {
    /** The label map's value for a skipped tile. */
    public static final int SKIPPED = 0;

    private final TileGrid grid;
    private final float[][][] probabilities;
    private final int[][] labels;
    private final Prediction summary;
    private final int tilesClassified;
    private final int tilesSkipped;

    private TileMap(TileGrid grid, float[][][] probabilities, int[][] labels, Prediction summary,
                    int tilesClassified, int tilesSkipped) {
        this.grid = grid;
        this.probabilities = probabilities;
        this.labels = labels;
        this.summary = summary;
        this.tilesClassified = tilesClassified;
        this.tilesSkipped = tilesSkipped;
    }

    public TileGrid grid() {
        return grid;
    }

    /** [class][row][column], classes in the order of grid().labels(). The arrays are the map's own. */
    public float[][][] probabilities() {
        return probabilities;
    }

    /** [row][column]: 1 + the index into grid().labels() of the tile's best class, or SKIPPED (0). */
    public int[][] labels() {
        return labels;
    }

    /** The whole-image answer (aggregated over the classified tiles; no labels when all were skipped). */
    public Prediction summary() {
        return summary;
    }

    public int tilesClassified() {
        return tilesClassified;
    }

    public int tilesSkipped() {
        return tilesSkipped;
    }

    /** Fills the map row by row; a row before the grid, or outside it, is an INTERNAL failure. */
    public static final class Assembler implements TileListener {
        private TileGrid grid;
        private float[][][] probabilities;
        private int[][] labels;

        @Override
        public void grid(TileGrid value) {
            grid = value;
            probabilities = new float[value.labels().size()][value.rows()][value.columns()];
            labels = new int[value.rows()][value.columns()];
            for (float[][] plane : probabilities) {
                for (float[] line : plane) {
                    Arrays.fill(line, Float.NaN);
                }
            }
        }

        @Override
        public void row(TileRow row) {
            if (grid == null || row.row() >= grid.rows()) {
                throw new BioclassException("INTERNAL", "tile row " + row.row() + " outside the grid " + grid);
            }
            for (TileResult tile : row.tiles()) {
                if (!tile.skipped()) {
                    put(tile);
                }
            }
        }

        private void put(TileResult tile) {
            float[] values = tile.probabilities();
            if (values.length != probabilities.length || tile.column() >= grid.columns()) {
                throw new BioclassException("INTERNAL", "tile " + tile.row() + "," + tile.column() + " has "
                        + values.length + " probabilities for " + probabilities.length + " labels");
            }
            int best = 0;
            for (int k = 0; k < values.length; k++) {
                probabilities[k][tile.row()][tile.column()] = values[k];
                best = values[k] > values[best] ? k : best;
            }
            labels[tile.row()][tile.column()] = best + 1;
        }

        /** The map, once the server's summary has come. */
        public TileMap finish(Prediction summary, int tilesClassified, int tilesSkipped) {
            if (grid == null) {
                throw new BioclassException("INTERNAL", "the server ended the tiled prediction without a grid");
            }
            return new TileMap(grid, probabilities, labels, summary, tilesClassified, tilesSkipped);
        }
    }
}
