package org.bioclass.client;

import java.util.Collections;
import java.util.List;

/** One classified (or skipped) tile: where it lies in image pixels and its class probabilities. */
public final class TileResult extends ImageRegion implements Ranked {
    private final int row;
    private final int column;
    private final float[] probabilities;
    private final List<LabelProbability> top;
    private final boolean skipped;
    private final float foreground;

    TileResult(int row, int column, int x, int y, int width, int height, float[] probabilities,
               List<LabelProbability> top, boolean skipped, float foreground) {
        super(x, y, width, height);
        this.row = row;
        this.column = column;
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

    /** One probability per label of the grid; empty when the tile was skipped. */
    public float[] probabilities() {
        return probabilities.clone();
    }

    /** Best labels first; empty when the tile was skipped. */
    @Override
    public List<LabelProbability> top() {
        return top;
    }

    public boolean skipped() {
        return skipped;
    }

    /** Share of foreground pixels when background skipping is on, else 1. */
    public float foreground() {
        return foreground;
    }
}
