package org.bioclass.client;

import java.util.List;

/** An answer with labels ranked best first (a prediction, a classified tile): its best label at hand. */
public interface Ranked {
    /** Best labels first; empty when there is no answer (a failed image, a skipped tile). */
    List<LabelProbability> top();

    /** The best label, or "" when there is no answer. */
    default String label() {
        return top().isEmpty() ? "" : top().get(0).label();
    }

    default double probability() {
        return top().isEmpty() ? Double.NaN : top().get(0).probability();
    }
}
