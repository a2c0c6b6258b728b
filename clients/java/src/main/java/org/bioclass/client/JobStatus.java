package org.bioclass.client;

import java.util.Collections;
import java.util.List;

/**
 * A training job as {@link BioclassClient#getJob} or one update of {@link BioclassClient#watchJob} sees
 * it: its state ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"), its progress,
 * the error of a failed job and, once it succeeded, the id of the model it registered.
 */
public final class JobStatus {
    private final String id;
    private final String state;
    private final String stage;
    private final int epoch;
    private final int epochs;
    private final int step;
    private final int steps;
    private final double loss;
    private final double etaSeconds;
    private final String error;
    private final String modelId;
    private final List<String> log;

    public JobStatus(String id, String state, String stage, int epoch, int epochs, int step, int steps, double loss,
                     double etaSeconds, String error, String modelId, List<String> log) {
        this.id = id;
        this.state = state;
        this.stage = stage;
        this.epoch = epoch;
        this.epochs = epochs;
        this.step = step;
        this.steps = steps;
        this.loss = loss;
        this.etaSeconds = etaSeconds;
        this.error = error;
        this.modelId = modelId;
        this.log = Collections.unmodifiableList(log);
    }

    public String id() {
        return id;
    }

    /** "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED" or "INTERRUPTED". */
    public String state() {
        return state;
    }

    /** Whether the job has ended (succeeded, failed, cancelled or interrupted). */
    public boolean finished() {
        return !"QUEUED".equals(state) && !"RUNNING".equals(state) && !"UNSPECIFIED".equals(state);
    }

    public boolean succeeded() {
        return "SUCCEEDED".equals(state);
    }

    /** "head", "lr_finder", "train", "evaluate", "export", or "" before the job starts. */
    public String stage() {
        return stage;
    }

    public int epoch() {
        return epoch;
    }

    public int epochs() {
        return epochs;
    }

    public int step() {
        return step;
    }

    public int steps() {
        return steps;
    }

    /** Mean training loss of the epoch so far. */
    public double loss() {
        return loss;
    }

    public double etaSeconds() {
        return etaSeconds;
    }

    /**
     * A rough share of the work done, 0 to 1: epochs and steps of the current stage (1 once finished).
     */
    public double fraction() {
        if (finished()) {
            return 1.0;
        }
        if (epochs <= 0) {
            return 0.0;
        }
        double inEpoch = steps > 0 ? Math.min(1.0, (double) step / steps) : 0.0;
        return Math.max(0.0, Math.min(1.0, (Math.max(epoch, 1) - 1 + inEpoch) / epochs));
    }

    /** Why the job failed; "" otherwise. */
    public String error() {
        return error;
    }

    /** The model the job registered in the zoo when it succeeded; "" otherwise (and in watch updates). */
    public String modelId() {
        return modelId;
    }

    /** Log lines: in a watch update those written since the previous update; from getJob the last ones. */
    public List<String> log() {
        return log;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("job ").append(id).append(' ').append(state);
        if (!stage.isEmpty()) {
            text.append(' ').append(stage).append(" epoch ").append(epoch).append('/').append(epochs);
        }
        if (!modelId.isEmpty()) {
            text.append(" model ").append(modelId);
        }
        if (!error.isEmpty()) {
            text.append(": ").append(error);
        }
        return text.toString();
    }
}
