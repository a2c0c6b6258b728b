package org.bioclass.client;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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

/**
 * The client over grpc-java: {@code new GrpcBioclassClient("127.0.0.1:50051")}, with the token and TLS
 * settings of the environment (see {@link ConnectionSettings}), or
 * {@code new GrpcBioclassClient(address, new ConnectionSettings().tokenFile(f).caCertificate(ca))}.
 */
public final class GrpcBioclassClient implements BioclassClient {
    public static final long DEFAULT_DEADLINE_SECONDS = 60;
    private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

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
        CollectingObserver responses = new CollectingObserver();
        StreamObserver<PredictRequest> requests = ClassifierGrpc.newStub(channel)
                .withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).predictStream(responses);
        for (ImageInput image : images) {
            requests.onNext(Messages.predictRequest(modelId, image, topK));
        }
        requests.onCompleted();
        List<PredictStreamResponse> answers = call(responses::await);
        List<Prediction> predictions = new ArrayList<>();
        for (PredictStreamResponse answer : answers) {
            predictions.add(Messages.streamed(answer, images, modelId));
        }
        return predictions;
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

    /** The server's status as a BioclassException; transport failures get a message a user can act on. */
    private BioclassException toException(Status status) {
        String code = status.getCode().name();
        if (status.getCode() == Status.Code.UNAVAILABLE) {
            return new BioclassException(code, "cannot reach the bioclass server at " + address + ": "
                    + unavailableReason(status));
        }
        if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            return new BioclassException(code, "no answer from the bioclass server at " + address + " within "
                    + deadlineSeconds + " s");
        }
        String description = status.getDescription();
        return new BioclassException(code, description == null || description.isEmpty() ? code : description);
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

    /** Gathers a stream's responses; await() rethrows the stream's failure as the grpc exception. */
    private static final class CollectingObserver implements StreamObserver<PredictStreamResponse> {
        private final List<PredictStreamResponse> responses = new ArrayList<>();
        private final CompletableFuture<List<PredictStreamResponse>> done = new CompletableFuture<>();

        @Override
        public void onNext(PredictStreamResponse response) {
            responses.add(response);
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
        }

        @Override
        public void onCompleted() {
            done.complete(responses);
        }

        List<PredictStreamResponse> await() {
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
