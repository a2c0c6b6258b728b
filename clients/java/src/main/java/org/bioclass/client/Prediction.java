package org.bioclass.client;

import java.util.Collections;
import java.util.List;

/** A classified image: labels best first, or an error when the server could not classify it. */
public final class Prediction implements Ranked {
    private final String name;
    private final String modelId;
    private final List<LabelProbability> top;
    private final String errorCode;
    private final String error;

    public Prediction(String name, String modelId, List<LabelProbability> top) {
        this(name, modelId, top, "", "");
    }

    private Prediction(String name, String modelId, List<LabelProbability> top, String errorCode, String error) {
        this.name = name;
        this.modelId = modelId;
        this.top = Collections.unmodifiableList(top);
        this.errorCode = errorCode;
        this.error = error;
    }

    /** A per-image failure inside predictMany (the other images are still classified). */
    public static Prediction failed(String name, String modelId, String errorCode, String error) {
        return new Prediction(name, modelId, Collections.<LabelProbability>emptyList(), errorCode, error);
    }

    public String name() {
        return name;
    }

    public String modelId() {
        return modelId;
    }

    /** Best labels first; empty for a failed image. */
    @Override
    public List<LabelProbability> top() {
        return top;
    }

    public boolean failed() {
        return !error.isEmpty();
    }

    public String errorCode() {
        return errorCode;
    }

    public String error() {
        return error;
    }

    @Override
    public String toString() {
        return failed() ? name + ": " + errorCode + ": " + error : name + ": " + top;
    }
}
