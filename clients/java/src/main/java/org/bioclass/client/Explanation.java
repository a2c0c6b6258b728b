package org.bioclass.client;

/**
 * A saliency map from {@link BioclassClient#explain}: one value in [0, 1] per pixel of the image as
 * sent (1: most important for the class), row by row, with the class it explains, the method used
 * ("gradcam" or "occlusion") and the prediction for the image.
 */
public final class Explanation {
    private final float[] saliency;
    private final int width;
    private final int height;
    private final String classLabel;
    private final int classIndex;
    private final String method;
    private final double explainMs;
    private final Prediction prediction;

    public Explanation(float[] saliency, int width, int height, String classLabel, int classIndex, String method,
                       double explainMs, Prediction prediction) {
        if (saliency.length != width * height) {
            throw new IllegalArgumentException(saliency.length + " values for a " + width + "x" + height + " map");
        }
        this.saliency = saliency;
        this.width = width;
        this.height = height;
        this.classLabel = classLabel;
        this.classIndex = classIndex;
        this.method = method;
        this.explainMs = explainMs;
        this.prediction = prediction;
    }

    /** The map, row by row (index y * width + x); the array is this object's own, not a copy. */
    public float[] saliency() {
        return saliency;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The explained class: the predicted one unless a target label was asked for. */
    public String classLabel() {
        return classLabel;
    }

    public int classIndex() {
        return classIndex;
    }

    /** "gradcam" or "occlusion" (what "auto" resolved to). */
    public String method() {
        return method;
    }

    /** Milliseconds the server spent computing the map. */
    public double explainMs() {
        return explainMs;
    }

    /** The prediction for the image the map explains. */
    public Prediction prediction() {
        return prediction;
    }

    @Override
    public String toString() {
        return method + " map " + width + "x" + height + " for " + classLabel;
    }
}
