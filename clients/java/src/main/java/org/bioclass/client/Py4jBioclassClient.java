package org.bioclass.client;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import py4j.ClientServer;
import py4j.Py4JException;

/**
 * The client over a py4j gateway ({@code bioclass serve --py4j-port P} or
 * {@code python -m bioclass.py4j_gateway}): needs only py4j's jar, for hosts where grpc-java and
 * Netty would clash with the jars they already ship. The gateway listens on 127.0.0.1 only.
 */
public final class Py4jBioclassClient implements BioclassClient {
    private final int port;
    private final ClientServer connection;
    private final Py4jEntryPoint gateway;

    public Py4jBioclassClient(int port) {
        this(port, GrpcBioclassClient.DEFAULT_DEADLINE_SECONDS);
    }

    /** Calls fail after readTimeoutSeconds without an answer. */
    public Py4jBioclassClient(int port, long readTimeoutSeconds) {
        this.port = port;
        this.connection = new ClientServer.ClientServerBuilder().pythonAddress(loopback()).pythonPort(port)
                .readTimeout((int) Math.min(Integer.MAX_VALUE, readTimeoutSeconds * 1000))
                .autoStartJavaServer(false).enableMemoryManagement(false).build();
        this.gateway = (Py4jEntryPoint) connection.getPythonServerEntryPoint(new Class[] {Py4jEntryPoint.class});
    }

    @Override
    public List<ModelInfo> listModels() {
        List<ModelInfo> models = new ArrayList<>();
        for (Object model : Json.list(answer(() -> gateway.listModels()).get("models"))) {
            models.add(model(Json.object(model)));
        }
        return models;
    }

    @Override
    public ModelInfo getModel(String modelId) {
        return model(answer(() -> gateway.getModel(modelId)));
    }

    @Override
    public Prediction predict(String modelId, ImageInput image, int topK) {
        if (image.isEncoded()) {
            return prediction(answer(() -> gateway.predictEncoded(modelId, image.encodedBytes(), image.name(), topK)));
        }
        return prediction(answer(() -> gateway.predictTensor(modelId, image.type().pythonName(), image.height(),
                image.width(), image.channels(), image.pixelBytes(), image.name(), topK)));
    }

    /** One call per image (py4j has no streams); per-image failures come back as failed predictions. */
    @Override
    public List<Prediction> predictMany(String modelId, List<ImageInput> images, int topK) {
        List<Prediction> predictions = new ArrayList<>();
        for (ImageInput image : images) {
            try {
                predictions.add(predict(modelId, image, topK));
            } catch (BioclassException e) {
                if (!"INVALID_ARGUMENT".equals(e.code()) && !"RESOURCE_EXHAUSTED".equals(e.code())) {
                    throw e;
                }
                predictions.add(Prediction.failed(image.name(), modelId, e.code(), e.getMessage()));
            }
        }
        return predictions;
    }

    @Override
    public void close() {
        connection.shutdown();
    }

    /** The gateway's JSON answer as a map; its "error" member becomes a BioclassException. */
    private Map<String, Object> answer(GatewayCall call) {
        String json;
        try {
            json = call.run();
        } catch (Py4JException e) {
            throw new BioclassException("UNAVAILABLE", "cannot reach the bioclass py4j gateway at 127.0.0.1:"
                    + port + ": " + firstLine(e.getMessage()), e);
        }
        Map<String, Object> answer = Json.object(Json.parse(json));
        if (answer.get("error") instanceof Map) {
            Map<String, Object> error = Json.object(answer.get("error"));
            throw new BioclassException((String) error.get("code"), (String) error.get("message"));
        }
        return answer;
    }

    private static ModelInfo model(Map<String, Object> json) {
        List<String> labels = new ArrayList<>();
        for (Object label : Json.list(json.get("labels"))) {
            labels.add((String) label);
        }
        return new ModelInfo((String) json.get("id"), (String) json.get("name"), (String) json.get("framework"),
                labels, (String) json.get("description"), (String) json.get("error"));
    }

    private static Prediction prediction(Map<String, Object> json) {
        List<LabelProbability> top = new ArrayList<>();
        for (Object item : Json.list(json.get("top"))) {
            Map<String, Object> row = Json.object(item);
            top.add(new LabelProbability((String) row.get("label"), ((Number) row.get("probability")).doubleValue(),
                    ((Number) row.get("index")).intValue()));
        }
        return new Prediction((String) json.get("name"), (String) json.get("model"), top);
    }

    private static InetAddress loopback() {
        try {
            return InetAddress.getByName("127.0.0.1");
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstLine(String text) {
        return text == null ? "no answer" : text.split("\n", 2)[0];
    }

    private interface GatewayCall {
        String run();
    }
}
