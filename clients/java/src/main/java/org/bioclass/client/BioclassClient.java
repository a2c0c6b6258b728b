package org.bioclass.client;

import java.util.List;

/**
 * A bioclass server seen from Java. Two transports implement it: {@link GrpcBioclassClient}
 * (grpc-java) and {@link Py4jBioclassClient} (a py4j gateway, for hosts that ship only py4j).
 * Every failed call throws {@link BioclassException} with the gRPC status name.
 */
public interface BioclassClient extends AutoCloseable {
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

    @Override
    void close();
}
