package org.bioclass.client;

/** One row of a prediction: a label, its probability and its index in the model's output. */
public final class LabelProbability {
    private final String label;
    private final double probability;
    private final int index;

    public LabelProbability(String label, double probability, int index) {
        this.label = label;
        this.probability = probability;
        this.index = index;
    }

    public String label() {
        return label;
    }

    public double probability() {
        return probability;
    }

    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return String.format("%s %.4f", label, probability);
    }
}
