package org.bioclass.client;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;
import org.bioclass.v1.CancelJobRequest;
import org.bioclass.v1.ClassifierGrpc;
import org.bioclass.v1.GetJobRequest;
import org.bioclass.v1.JobUpdate;
import org.bioclass.v1.TrainingGrpc;
import org.bioclass.v1.WatchJobRequest;
import org.bioclass.v1.GetModelRequest;
import org.bioclass.v1.ListModelsRequest;
import org.bioclass.v1.PredictRequest;
import org.bioclass.v1.PredictStreamResponse;
import org.bioclass.v1.FileUpload;
import org.bioclass.v1.PredictTilesHeader;
import org.bioclass.v1.PredictTilesRequest;

/**
 * The client over grpc-java: {@code new GrpcBioclassClient("127.0.0.1:50051")}, with the token and TLS
 * settings of the environment (see {@link ConnectionSettings}), or
 * {@code new GrpcBioclassClient(address, new ConnectionSettings().tokenFile(f).caCertificate(ca))}.
 */
public final class GrpcBioclassClient implements BioclassClient {
    public static final long DEFAULT_DEADLINE_SECONDS = 60;
    private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
    /** Images sent but not yet answered in one stream. */
    public static final int STREAM_WINDOW = 64;

    private final String address;
    private final long deadlineSeconds;
    private final ManagedChannel channel;

    /** Token and TLS from BIOCLASS_TOKEN, BIOCLASS_TLS_CA, BIOCLASS_TLS_CERT, BIOCLASS_TLS_KEY (unset: plaintext). */
    public GrpcBioclassClient(String address) {
        this(address, DEFAULT_DEADLINE_SECONDS);
    }

    /** Every call fails with DEADLINE_EXCEEDED after deadlineSeconds (a stream: for the whole stream). */
    public GrpcBioclassClient(String address, long deadlineSeconds) {
        this(address, ConnectionSettings.fromEnvironment(), deadlineSeconds);
    }

    public GrpcBioclassClient(String address, ConnectionSettings connection) {
        this(address, connection, DEFAULT_DEADLINE_SECONDS);
    }

    /** Throws BioclassException INVALID_ARGUMENT when a certificate, key or token file cannot be used. */
    public GrpcBioclassClient(String address, ConnectionSettings connection, long deadlineSeconds) {
        this.address = address;
        this.deadlineSeconds = deadlineSeconds;
        this.channel = Channels.open(address, connection, MAX_MESSAGE_BYTES);
    }

    public String address() {
        return address;
    }

    @Override
    public List<ModelInfo> listModels() {
        return call(() -> Messages.models(blocking().listModels(ListModelsRequest.getDefaultInstance())));
    }

    @Override
    public ModelInfo getModel(String modelId) {
        return call(() -> Messages.model(blocking().getModel(
                GetModelRequest.newBuilder().setModelId(modelId).build())));
    }

    @Override
    public Prediction predict(String modelId, ImageInput image, int topK) {
        PredictRequest request = Messages.predictRequest(modelId, image, topK);
        return call(() -> Messages.prediction(blocking().predict(request).getPrediction()));
    }

    @Override
    public List<Prediction> predictMany(String modelId, List<ImageInput> images, int topK) {
        Prediction[] predictions = new Prediction[images.size()];
        predictEach(modelId, images.iterator(), topK, (prediction, index) -> predictions[index] = prediction);
        return Arrays.asList(predictions);
    }

    /**
     * One stream for all the images: the iterator may read the next image while the server classifies
     * the earlier ones; at most {@link #STREAM_WINDOW} images are in flight, so a large folder never
     * piles up in memory.
     */
    @Override
    public void predictEach(String modelId, Iterator<ImageInput> images, int topK, ObjIntConsumer<Prediction> results) {
        StreamResults responses = new StreamResults(modelId, results);
        StreamObserver<PredictRequest> requests = ClassifierGrpc.newStub(channel)
                .withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).predictStream(responses);
        try {
            while (responses.awaitSlot() && images.hasNext()) {
                ImageInput image = images.next();
                responses.sending(image.name());
                requests.onNext(Messages.predictRequest(modelId, image, topK));
            }
        } catch (RuntimeException failure) {
            requests.onError(failure);
            throw failure;
        }
        requests.onCompleted();
        call(responses::await);
    }

    @Override
    public TileMap predictTiles(String modelId, ImageInput image, TileSettings settings, TileListener listener) {
        PredictTilesHeader header = Messages.tilesHeader(modelId, image.name(), settings)
                .setImage(Messages.image(image)).build();
        return tiles(header, null, listener);
    }

    /** A file on the server's disk, under its data roots (TIFF / OME-TIFF read lazily, row of tiles by row). */
    public TileMap predictTilesOnServer(String modelId, String serverPath, TileSettings settings,
                                        TileListener listener) {
        return tiles(Messages.tilesHeader(modelId, "", settings).setServerPath(serverPath).build(), null, listener);
    }

    /**
     * A file of this machine, uploaded in chunks of 1 MiB as the transport takes them (the server reads a
     * TIFF lazily; PNG, JPEG and BMP are decoded whole). INVALID_ARGUMENT when the file cannot be read.
     */
    public TileMap predictTilesFile(String modelId, Path file, TileSettings settings, TileListener listener) {
        try {
            FileUpload upload = FileUpload.newBuilder().setSize(Files.size(file)).setSha256(sha256(file)).build();
            PredictTilesHeader header = Messages.tilesHeader(modelId, file.getFileName().toString(), settings)
                    .setUpload(upload).build();
            return tiles(header, file, listener);
        } catch (IOException e) {
            throw new BioclassException("INVALID_ARGUMENT", "Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private TileMap tiles(PredictTilesHeader header, Path upload, TileListener listener) {
        TileStream stream = new TileStream(header.getModelId());
        ClassifierGrpc.newStub(channel).withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).predictTiles(stream);
        return call(() -> {
            try (InputStream chunks = upload == null ? null : Files.newInputStream(upload)) {
                stream.send(PredictTilesRequest.newBuilder().setHeader(header).build(), chunks);
            } catch (IOException e) {
                throw new BioclassException("INVALID_ARGUMENT", "Cannot read " + upload + ": " + e.getMessage(), e);
            }
            return stream.receive(listener);
        });
    }

    private static String sha256(Path file) throws IOException {
        try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file),
                MessageDigest.getInstance("SHA-256"))) {
            byte[] buffer = new byte[TileStream.CHUNK_BYTES];
            while (in.read(buffer) > 0) {
                continue; // the digest sees every byte read
            }
            StringBuilder hex = new StringBuilder();
            for (byte b : in.getMessageDigest().digest()) {
                hex.append(String.format("%02x", b));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public Explanation explain(String modelId, ImageInput image, String targetLabel, String method) {
        org.bioclass.v1.ExplainRequest request = Messages.explainRequest(modelId, image, targetLabel, method);
        return call(() -> Messages.explanation(blocking().explain(request)));
    }

    @Override
    public String trainFromServerFolder(String folder, TrainSettings settings) {
        org.bioclass.v1.TrainRequest request = Messages.trainRequest(folder, settings);
        return call(() -> training().train(request).getJobId());
    }

    /** No deadline: the stream lasts as long as the job (a lost server still ends it with UNAVAILABLE). */
    @Override
    public JobStatus watchJob(String jobId, JobListener listener) {
        WatchJobRequest request = WatchJobRequest.newBuilder().setJobId(jobId).build();
        call(() -> {
            Iterator<JobUpdate> updates = TrainingGrpc.newBlockingStub(channel).watchJob(request);
            while (updates.hasNext()) {
                JobStatus update = Messages.update(updates.next());
                if (listener != null) {
                    listener.update(update);
                }
            }
            return null;
        });
        return getJob(jobId);
    }

    @Override
    public JobStatus getJob(String jobId) {
        GetJobRequest request = GetJobRequest.newBuilder().setJobId(jobId).build();
        return call(() -> Messages.job(training().getJob(request)));
    }

    @Override
    public JobStatus cancelJob(String jobId) {
        CancelJobRequest request = CancelJobRequest.newBuilder().setJobId(jobId).build();
        return call(() -> Messages.job(training().cancelJob(request)));
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ClassifierGrpc.ClassifierBlockingStub blocking() {
        return ClassifierGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS);
    }

    private TrainingGrpc.TrainingBlockingStub training() {
        return TrainingGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS);
    }

    private <T> T call(Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw toException(e.getStatus());
        }
    }

    /** The server's status as a BioclassException with a message a user can act on (see UserMessages). */
    private BioclassException toException(Status status) {
        boolean answered = answeredByServer(status);
        String detail = status.getCode() == Status.Code.UNAVAILABLE && !answered ? unavailableReason(status)
                : status.getDescription();
        return UserMessages.failure(status.getCode().name(), detail, address, deadlineSeconds, answered,
                status.getCause());
    }

    /** grpc-java's own UNAVAILABLE (no connection, TLS refused) has a cause. */
    private static boolean answeredByServer(Status status) {
        return status.getCause() == null && UserMessages.spokenByServer(status.getDescription());
    }

    /** The first cause with a message (a refused TLS handshake often has none on top), else the description;
     * one line (Netty appends its pipeline on more lines). */
    private static String unavailableReason(Status status) {
        String reason = status.getDescription();
        for (Throwable cause = status.getCause(); cause != null; cause = cause.getCause()) {
            if (cause.getMessage() != null && !cause.getMessage().isEmpty()) {
                reason = cause.getMessage();
                break;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return reason == null ? status.getCode().name() : reason.split("\n", 2)[0].trim();
    }

    /**
     * Hands each response of a stream to the caller as it arrives and bounds the images in flight;
     * await() rethrows the stream's failure as the grpc exception.
     */
    private static final class StreamResults implements StreamObserver<PredictStreamResponse> {
        private final String modelId;
        private final ObjIntConsumer<Prediction> results;
        private final Map<Integer, String> names = new ConcurrentHashMap<>();
        private final Semaphore slots = new Semaphore(STREAM_WINDOW);
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private int sent;

        StreamResults(String modelId, ObjIntConsumer<Prediction> results) {
            this.modelId = modelId;
            this.results = results;
        }

        /** Waits for room in the window; false once the stream has ended (a failure: stop sending). */
        boolean awaitSlot() {
            slots.acquireUninterruptibly();
            return !done.isDone();
        }

        void sending(String name) {
            names.put(sent++, name);
        }

        @Override
        public void onNext(PredictStreamResponse response) {
            int index = (int) response.getIndex();
            try {
                results.accept(Messages.streamed(response, names.remove(index), modelId), index);
            } finally {
                slots.release(); // a callback that throws must not leave the sender waiting forever
            }
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
            slots.release(STREAM_WINDOW);
        }

        @Override
        public void onCompleted() {
            done.complete(null);
            slots.release(STREAM_WINDOW);
        }

        Void await() {
            try {
                return done.get();
            } catch (ExecutionException e) {
                throw Status.fromThrowable(e.getCause()).asRuntimeException();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
            }
        }
    }
}
