package org.bioclass.client;

import java.util.Collections;
import java.util.List;

/** A model the server offers: its id (what predict takes), display name, framework and labels. */
public final class ModelInfo {
    private final String id;
    private final String name;
    private final String framework;
    private final List<String> labels;
    private final String description;
    private final String error;

    public ModelInfo(String id, String name, String framework, List<String> labels, String description,
                     String error) {
        this.id = id;
        this.name = name;
        this.framework = framework;
        this.labels = Collections.unmodifiableList(labels);
        this.description = description;
        this.error = error;
    }

    public String id() {
        return id;
    }

    public String name() {
        return name;
    }

    public String framework() {
        return framework;
    }

    public List<String> labels() {
        return labels;
    }

    public String description() {
        return description;
    }

    /** Why the model could not be loaded; "" when it is usable. */
    public String error() {
        return error;
    }

    @Override
    public String toString() {
        return id + " (" + framework + ") " + labels;
    }
}
