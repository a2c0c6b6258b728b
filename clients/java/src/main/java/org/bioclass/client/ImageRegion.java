package org.bioclass.client;

/** A rectangle of a larger image, in full-image pixels: what a tile to classify and a classified tile share. */
public abstract class ImageRegion {
    private final int x;
    private final int y;
    private final int width;
    private final int height;

    protected ImageRegion(int x, int y, int width, int height) {
        this.x = x;
        this.y = y;
        this.width = width;
        this.height = height;
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
}
