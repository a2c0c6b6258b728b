package org.bioclass.client;

/**
 * The Python object behind a py4j gateway (bioclass.py4j_gateway.GatewayEntryPoint). Every method
 * answers JSON; a failure answers {"error": {"code": ..., "message": ...}}.
 */
public interface Py4jEntryPoint {
    String listModels();

    String getModel(String modelId);

    String predictEncoded(String modelId, byte[] data, String name, int topK);

    /** dtype "uint8", "uint16" or "float32"; channels 0 for grayscale; data little-endian (y, x, c). */
    String predictTensor(String modelId, String dtype, int height, int width, int channels, byte[] data,
                         String name, int topK);

    /** target "" explains the predicted class; method "" is "auto". The map comes back as base64 float32 LE. */
    String explainEncoded(String modelId, byte[] data, String name, String target, String method);

    String explainTensor(String modelId, String dtype, int height, int width, int channels, byte[] data,
                         String name, String target, String method);

    /** options: JSON of tile, stride, region [y, x, height, width], aggregation, top_k, skip_background. */
    String predictTilesEncoded(String modelId, byte[] data, String name, String options);

    String predictTilesTensor(String modelId, String dtype, int height, int width, int channels, byte[] data,
                              String name, String options);

    /** settings: JSON of arch, epochs, image_size, model_id, overwrite, batch_size, learning_rate, threads. */
    String trainServerFolder(String folder, String settings);

    String getJob(String jobId);

    String cancelJob(String jobId);
}
