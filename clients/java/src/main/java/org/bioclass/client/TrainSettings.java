package org.bioclass.client;

/**
 * What {@link BioclassClient#trainFromServerFolder(String, TrainSettings)} sends: the architecture and
 * the few knobs a Java host needs; 0 or empty leaves a knob at the server's default (the ATLASS
 * recipe: 10 epochs, 224 px input, learning rate from the finder, all cores).
 */
public final class TrainSettings {
    private String architecture = "";
    private int epochs;
    private int imageSize;
    private String modelId = "";
    private boolean overwrite;
    private int batchSize;
    private double learningRate;
    private int threads;
    private double maxSeconds;

    /** A timm name ("resnet18", "mobilenetv3_small_050") or "torchvision:NAME". */
    public TrainSettings architecture(String value) {
        architecture = value == null ? "" : value;
        return this;
    }

    public TrainSettings epochs(int value) {
        epochs = value;
        return this;
    }

    /** Square network input in pixels. */
    public TrainSettings imageSize(int value) {
        imageSize = value;
        return this;
    }

    /** Id of the trained model in the server's zoo; empty: "ARCH-JOBID". */
    public TrainSettings modelId(String value) {
        modelId = value == null ? "" : value;
        return this;
    }

    /** Replace a model of the server's store with the same id. */
    public TrainSettings overwrite(boolean value) {
        overwrite = value;
        return this;
    }

    public TrainSettings batchSize(int value) {
        batchSize = value;
        return this;
    }

    /** Peak learning rate; 0 runs the server's learning-rate finder. */
    public TrainSettings learningRate(double value) {
        learningRate = value;
        return this;
    }

    /** CPU threads of the training process; 0: all cores. */
    public TrainSettings threads(int value) {
        threads = value;
        return this;
    }

    /** Stop after this many seconds, keeping the best weights so far; 0: no limit. */
    public TrainSettings maxSeconds(double value) {
        maxSeconds = value;
        return this;
    }

    public String architecture() {
        return architecture;
    }

    public int epochs() {
        return epochs;
    }

    public int imageSize() {
        return imageSize;
    }

    public String modelId() {
        return modelId;
    }

    public boolean overwrite() {
        return overwrite;
    }

    public int batchSize() {
        return batchSize;
    }

    public double learningRate() {
        return learningRate;
    }

    public int threads() {
        return threads;
    }

    public double maxSeconds() {
        return maxSeconds;
    }
}
