package org.bioclass.client;

import java.util.Collections;
import java.util.List;

/** One row of tiles as the server answers it, in column order, with the progress of the whole image. */
public final class TileRow {
    private final int row;
    private final List<TileResult> tiles;
    private final int tilesDone;
    private final int tilesTotal;

    TileRow(int row, List<TileResult> tiles, int tilesDone, int tilesTotal) {
        this.row = row;
        this.tiles = Collections.unmodifiableList(tiles);
        this.tilesDone = tilesDone;
        this.tilesTotal = tilesTotal;
    }

    public int row() {
        return row;
    }

    public List<TileResult> tiles() {
        return tiles;
    }

    /** Tiles finished so far, this row included. */
    public int tilesDone() {
        return tilesDone;
    }

    public int tilesTotal() {
        return tilesTotal;
    }

    /** Share of the image's tiles done, 0 to 1. */
    public double fraction() {
        return tilesTotal == 0 ? 1.0 : (double) tilesDone / tilesTotal;
    }
}
