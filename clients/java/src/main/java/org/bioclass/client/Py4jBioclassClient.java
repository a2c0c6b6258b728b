package org.bioclass.client;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
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
    private final long readTimeoutSeconds;
    private final ClientServer connection;
    private final Py4jEntryPoint gateway;

    public Py4jBioclassClient(int port) {
        this(port, GrpcBioclassClient.DEFAULT_DEADLINE_SECONDS);
    }

    /** Calls fail after readTimeoutSeconds without an answer. */
    public Py4jBioclassClient(int port, long readTimeoutSeconds) {
        this(port, readTimeoutSeconds, gatewayAuthToken(port));
    }

    /**
     * authToken: the gateway's own token (not the server's), which the gateway writes to
     * ~/.bioclass/py4j-PORT.token; the other constructors read it from there, from
     * $BIOCLASS_PY4J_TOKEN_DIR/py4j-PORT.token, or from $BIOCLASS_PY4J_TOKEN.
     */
    public Py4jBioclassClient(int port, long readTimeoutSeconds, String authToken) {
        this.port = port;
        this.readTimeoutSeconds = readTimeoutSeconds;
        ClientServer.ClientServerBuilder builder = new ClientServer.ClientServerBuilder().pythonAddress(loopback())
                .pythonPort(port).readTimeout((int) Math.min(Integer.MAX_VALUE, readTimeoutSeconds * 1000))
                .autoStartJavaServer(false).enableMemoryManagement(false);
        if (authToken != null && !authToken.isEmpty()) {
            builder.authToken(authToken);
        }
        this.connection = builder.build();
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

    /** py4j has no streams: the listener sees the grid and the rows once the gateway has the whole answer. */
    @Override
    public TileMap predictTiles(String modelId, ImageInput image, TileSettings settings, TileListener listener) {
        String options = Py4jTiles.options(settings);
        Map<String, Object> answer = image.isEncoded()
                ? answer(() -> gateway.predictTilesEncoded(modelId, image.encodedBytes(), image.name(), options))
                : answer(() -> gateway.predictTilesTensor(modelId, image.type().pythonName(), image.height(),
                        image.width(), image.channels(), image.pixelBytes(), image.name(), options));
        return Py4jTiles.replay(answer, listener);
    }

    @Override
    public Explanation explain(String modelId, ImageInput image, String targetLabel, String method) {
        String target = targetLabel == null ? "" : targetLabel.trim();
        String how = method == null ? "" : method.trim();
        Map<String, Object> json = image.isEncoded()
                ? answer(() -> gateway.explainEncoded(modelId, image.encodedBytes(), image.name(), target, how))
                : answer(() -> gateway.explainTensor(modelId, image.type().pythonName(), image.height(),
                        image.width(), image.channels(), image.pixelBytes(), image.name(), target, how));
        int width = number(json.get("width")).intValue();
        int height = number(json.get("height")).intValue();
        float[] values = new float[width * height];
        ByteBuffer.wrap(Base64.getDecoder().decode((String) json.get("saliency"))).order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer().get(values);
        return new Explanation(values, width, height, (String) json.get("class_label"),
                number(json.get("class_index")).intValue(), (String) json.get("method"),
                number(json.get("explain_ms")).doubleValue(), prediction(Json.object(json.get("prediction"))));
    }

    @Override
    public String trainFromServerFolder(String folder, TrainSettings settings) {
        String config = String.format(Locale.ROOT, "{\"arch\": %s, \"epochs\": %d, \"image_size\": %d, "
                + "\"model_id\": %s, \"overwrite\": %s, \"batch_size\": %d, \"learning_rate\": %s, "
                + "\"threads\": %d, \"max_seconds\": %s}", quote(settings.architecture()),
                Math.max(settings.epochs(), 0), Math.max(settings.imageSize(), 0), quote(settings.modelId()),
                settings.overwrite(), Math.max(settings.batchSize(), 0),
                Double.toString(Math.max(settings.learningRate(), 0.0)), Math.max(settings.threads(), 0),
                Double.toString(Math.max(settings.maxSeconds(), 0.0)));
        return (String) answer(() -> gateway.trainServerFolder(folder, config)).get("job_id");
    }

    /** py4j has no streams: polls the job twice a second and hands the listener each change. */
    @Override
    public JobStatus watchJob(String jobId, JobListener listener) {
        String last = null;
        int linesSeen = 0;
        while (true) {
            JobStatus job = getJob(jobId);
            List<String> log = job.log();
            List<String> fresh = log.size() > linesSeen ? log.subList(linesSeen, log.size())
                    : new ArrayList<String>();
            linesSeen = Math.max(linesSeen, log.size());
            String key = job.state() + job.stage() + job.epoch() + "/" + job.step() + "/" + job.loss();
            if (listener != null && (!key.equals(last) || !fresh.isEmpty())) {
                listener.update(new JobStatus(job.id(), job.state(), job.stage(), job.epoch(), job.epochs(),
                        job.step(), job.steps(), job.loss(), job.etaSeconds(), job.error(), "",
                        new ArrayList<>(fresh)));
            }
            last = key;
            if (job.finished()) {
                return job;
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BioclassException("CANCELLED", "interrupted while watching job " + jobId, e);
            }
        }
    }

    @Override
    public JobStatus getJob(String jobId) {
        return job(answer(() -> gateway.getJob(jobId)));
    }

    @Override
    public JobStatus cancelJob(String jobId) {
        return job(answer(() -> gateway.cancelJob(jobId)));
    }

    private static JobStatus job(Map<String, Object> json) {
        List<String> log = new ArrayList<>();
        for (Object line : Json.list(json.get("log"))) {
            log.add((String) line);
        }
        return new JobStatus((String) json.get("id"), (String) json.get("state"), (String) json.get("stage"),
                number(json.get("epoch")).intValue(), number(json.get("epochs")).intValue(),
                number(json.get("step")).intValue(), number(json.get("steps")).intValue(),
                number(json.get("loss")).doubleValue(), number(json.get("eta_seconds")).doubleValue(),
                (String) json.get("error"), (String) json.get("model_id"), log);
    }

    private static Number number(Object value) {
        return value instanceof Number ? (Number) value : Double.valueOf(0);
    }

    /** A JSON string literal. */
    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    @Override
    public void close() {
        connection.shutdown();
    }

    /** The gateway's JSON answer as a map; its "error" member becomes a BioclassException. */
    private static boolean refusedAuthToken(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (String.valueOf(cause.getMessage()).startsWith("Authentication with callback server unsuccessful")) {
                return true;
            }
        }
        return false;
    }

    /** The token the gateway on this port left for its owner, or null when there is none to read. */
    static String gatewayAuthToken(int port) {
        String fromEnvironment = System.getenv("BIOCLASS_PY4J_TOKEN");
        if (fromEnvironment != null && !fromEnvironment.isEmpty()) {
            return fromEnvironment.trim();
        }
        String folder = System.getenv("BIOCLASS_PY4J_TOKEN_DIR");
        Path file = (folder != null && !folder.isEmpty() ? Paths.get(folder)
                : Paths.get(System.getProperty("user.home"), ".bioclass")).resolve("py4j-" + port + ".token");
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return null; // the gateway refuses the calls, and the error says so
        }
    }

    private Map<String, Object> answer(GatewayCall call) {
        String json;
        try {
            json = call.run();
        } catch (Py4JException e) {
            if (refusedAuthToken(e)) {
                throw new BioclassException("UNAUTHENTICATED", "the bioclass py4j gateway at 127.0.0.1:" + port
                        + " refused the auth token: it is in ~/.bioclass/py4j-" + port + ".token of the user who"
                        + " started the gateway (or set BIOCLASS_PY4J_TOKEN)", e);
            }
            throw new BioclassException("UNAVAILABLE", "cannot reach the bioclass py4j gateway at 127.0.0.1:"
                    + port + ": " + firstLine(e.getMessage()), e);
        }
        Map<String, Object> answer = Json.object(Json.parse(json));
        if (answer.get("error") instanceof Map) {
            Map<String, Object> error = Json.object(answer.get("error"));
            String code = (String) error.get("code");
            String message = (String) error.get("message");
            if ("UNAVAILABLE".equals(code) && !UserMessages.spokenByServer(message)) {
                throw new BioclassException(code, message); // the gateway's client names the server it missed
            }
            throw UserMessages.failure(code, message, "127.0.0.1:" + port, readTimeoutSeconds, true, null);
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

    /** A prediction's JSON (also a tile's: name and model absent, its top labels). */
    static Prediction prediction(Map<String, Object> json) {
        List<LabelProbability> top = new ArrayList<>();
        for (Object item : Json.list(json.get("top"))) {
            Map<String, Object> row = Json.object(item);
            top.add(new LabelProbability((String) row.get("label"), ((Number) row.get("probability")).doubleValue(),
                    ((Number) row.get("index")).intValue()));
        }
        return new Prediction(text(json.get("name")), text(json.get("model")), top);
    }

    private static String text(Object value) {
        return value == null ? "" : (String) value;
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
