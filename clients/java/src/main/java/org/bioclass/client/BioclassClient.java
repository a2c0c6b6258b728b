package org.bioclass.client;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.ObjIntConsumer;

/**
 * A bioclass server seen from Java. Two transports implement it: {@link GrpcBioclassClient}
 * (grpc-java) and {@link Py4jBioclassClient} (a py4j gateway, for hosts that ship only py4j).
 * Every failed call throws {@link BioclassException} with the gRPC status name.
 */
public interface BioclassClient extends AutoCloseable {
    /** Images per predictMany call in the default predictEach. */
    int CHUNK = 32;

    /** The models the server offers. */
    List<ModelInfo> listModels();

    /** One model by id; NOT_FOUND when the server has none. */
    ModelInfo getModel(String modelId);

    /** Classify one image; topK 0 lets the server choose (5, capped at the number of labels). */
    Prediction predict(String modelId, ImageInput image, int topK);

    /**
     * Classify many images, results in order. An image the server cannot classify comes back as a
     * failed Prediction and the others go on; an unknown model or a lost server throws.
     */
    List<Prediction> predictMany(String modelId, List<ImageInput> images, int topK);

    /**
     * Classify images as the iterator yields them, handing each result and its position (0, 1, ...) to
     * {@code results} as it arrives; a failed image comes back as a failed Prediction and the others go
     * on. The iterator may read files lazily: the next images are read while earlier ones are classified.
     * This default sends chunks of {@link #CHUNK} through predictMany; the gRPC client streams them all.
     */
    default void predictEach(String modelId, Iterator<ImageInput> images, int topK,
                             ObjIntConsumer<Prediction> results) {
        int first = 0;
        while (images.hasNext()) {
            List<ImageInput> chunk = new ArrayList<>();
            while (images.hasNext() && chunk.size() < CHUNK) {
                chunk.add(images.next());
            }
            List<Prediction> predictions = predictMany(modelId, chunk, topK);
            for (int i = 0; i < predictions.size(); i++) {
                results.accept(predictions.get(i), first + i);
            }
            first += chunk.size();
        }
    }

    /**
     * Classify an image tile by tile at native scale (large images: see GrpcBioclassClient's
     * predictTilesFile and predictTilesOnServer). The listener (may be null) gets the grid, then each row
     * of tiles as it arrives (over py4j, which has no streams: once the whole answer is in), on the
     * calling thread; the returned map holds the probability and label maps and the whole-image answer.
     * A listener that throws cancels the call.
     */
    TileMap predictTiles(String modelId, ImageInput image, TileSettings settings, TileListener listener);

    /**
     * A saliency map of the image for one class: targetLabel null or "" explains the predicted class;
     * method "auto" (or null: Grad-CAM where the framework supports it, else occlusion), "gradcam" or
     * "occlusion". The map has the size of the image as sent, values in [0, 1].
     */
    Explanation explain(String modelId, ImageInput image, String targetLabel, String method);

    /**
     * Queue a training job on a class-per-folder directory (FOLDER/CLASS/IMAGE) that the server reads
     * from its own disk (it must lie in the server's data roots); returns the job id at once.
     * architecture "" lets the server choose; epochs and imageSize 0: the server's defaults; modelId "":
     * "ARCH-JOBID".
     */
    default String trainFromServerFolder(String folder, String architecture, int epochs, int imageSize,
                                         String modelId) {
        return trainFromServerFolder(folder, new TrainSettings().architecture(architecture).epochs(epochs)
                .imageSize(imageSize).modelId(modelId));
    }

    /** As above with more settings. */
    String trainFromServerFolder(String folder, TrainSettings settings);

    /**
     * Blocks until the job ends, handing the listener the job's state now and then every change; returns
     * the finished job as {@link #getJob} sees it (with the model id when it succeeded).
     */
    JobStatus watchJob(String jobId, JobListener listener);

    /** One job now; NOT_FOUND for an unknown id. */
    JobStatus getJob(String jobId);

    /** Cancel a queued or running job; FAILED_PRECONDITION when it has already finished. */
    JobStatus cancelJob(String jobId);

    @Override
    void close();
}
