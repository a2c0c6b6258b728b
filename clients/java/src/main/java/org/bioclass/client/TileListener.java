package org.bioclass.client;

/** Receives a tiled prediction as it arrives, on the calling thread: the grid first, then row by row. */
public interface TileListener {
    default void grid(TileGrid grid) {
    }

    void row(TileRow row);
}
