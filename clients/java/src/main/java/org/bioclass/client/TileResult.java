package org.bioclass.client;

import java.util.Collections;
import java.util.List;

/** One classified (or skipped) tile: where it lies in image pixels and its class probabilities. */
public final class TileResult {
    private final int row;
    private final int column;
    private final int x;
    private final int y;
    private final int width;
    private final int height;
    private final float[] probabilities;
    private final List<LabelProbability> top;
    private final boolean skipped;
    private final float foreground;

    TileResult(int row, int column, int x, int y, int width, int height, float[] probabilities,
               List<LabelProbability> top, boolean skipped, float foreground) {
        this.row = row;
        this.column = column;
        this.x = x;
        this.y = y;
        this.width = width;
        this.height = height;
        this.probabilities = probabilities;
        this.top = Collections.unmodifiableList(top);
        this.skipped = skipped;
        this.foreground = foreground;
    }

    public int row() {
        return row;
    }

    public int column() {
        return column;
    }

    public int x() {
        return x;
    }

    public int y() {
        return y;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** One probability per label of the grid; empty when the tile was skipped. */
    public float[] probabilities() {
        return probabilities.clone();
    }

    /** Best labels first; empty when the tile was skipped. */
    public List<LabelProbability> top() {
        return top;
    }

    /** The best label, or "" for a skipped tile. */
    public String label() {
        return top.isEmpty() ? "" : top.get(0).label();
    }

    public double probability() {
        return top.isEmpty() ? Double.NaN : top.get(0).probability();
    }

    public boolean skipped() {
        return skipped;
    }

    /** Share of foreground pixels when background skipping is on, else 1. */
    public float foreground() {
        return foreground;
    }
}
