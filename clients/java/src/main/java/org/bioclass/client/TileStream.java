package org.bioclass.client;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.bioclass.v1.PredictTilesRequest;
import org.bioclass.v1.PredictTilesResponse;

/**
 * One PredictTiles call seen from the calling thread: it sends the header and the upload's chunks (only
 * as fast as the transport takes them, so a large file is never buffered whole), then hands the grid and
 * each row to the listener as they arrive and assembles the map. Responses are queued by grpc's thread
 * and consumed here, so the listener runs on the caller's thread and may throw (the call is cancelled).
 */
final class TileStream implements ClientResponseObserver<PredictTilesRequest, PredictTilesResponse> {
    static final int CHUNK_BYTES = 1 << 20;
    private static final Object END = new Object();

    private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    private final Object readiness = new Object();
    private final String modelId;
    private volatile boolean ended;
    private ClientCallStreamObserver<PredictTilesRequest> requests;

    TileStream(String modelId) {
        this.modelId = modelId;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<PredictTilesRequest> stream) {
        requests = stream;
        stream.setOnReadyHandler(this::wake);
    }

    @Override
    public void onNext(PredictTilesResponse response) {
        answers.add(response);
    }

    @Override
    public void onError(Throwable error) {
        ended = true;
        answers.add(error);
        wake();
    }

    @Override
    public void onCompleted() {
        ended = true;
        answers.add(END);
        wake();
    }

    /** Sends the header, then the upload (null: none) in chunks, then half-closes. */
    void send(PredictTilesRequest header, InputStream upload) throws IOException {
        try {
            requests.onNext(header);
            byte[] buffer = new byte[CHUNK_BYTES];
            for (int read; upload != null && awaitReady() && (read = upload.read(buffer)) > 0; ) {
                ByteString chunk = ByteString.copyFrom(buffer, 0, read);
                requests.onNext(PredictTilesRequest.newBuilder().setChunk(chunk).build());
            }
            requests.onCompleted();
        } catch (IOException | RuntimeException failure) {
            requests.cancel("the client could not send the image", failure);
            throw failure;
        }
    }

    /** The grid and rows to the listener (may be null) as they come; the map once the summary came. */
    TileMap receive(TileListener listener) {
        TileMap.Assembler map = new TileMap.Assembler();
        TileMap done = null;
        try {
            for (Object answer = next(); answer != END; answer = next()) {
                if (answer instanceof Throwable) {
                    throw Status.fromThrowable((Throwable) answer).asRuntimeException();
                }
                TileMap finished = dispatch((PredictTilesResponse) answer, map, listener);
                done = finished == null ? done : finished;
            }
        } catch (RuntimeException failure) {
            requests.cancel("the client stopped", failure);
            throw failure;
        }
        if (done == null) {
            throw new BioclassException("INTERNAL", "the server ended the tiled prediction without its summary");
        }
        return done;
    }

    private TileMap dispatch(PredictTilesResponse answer, TileMap.Assembler map, TileListener listener) {
        switch (answer.getItemCase()) {
            case GRID:
                TileGrid grid = Messages.grid(answer.getGrid());
                map.grid(grid);
                if (listener != null) {
                    listener.grid(grid);
                }
                return null;
            case ROW:
                TileRow row = Messages.row(answer.getRow());
                map.row(row);
                if (listener != null) {
                    listener.row(row);
                }
                return null;
            case SUMMARY:
                org.bioclass.v1.TileSummary summary = answer.getSummary();
                Prediction whole = Messages.prediction(summary.getPrediction());
                return map.finish(whole.modelId().isEmpty() ? new Prediction(whole.name(), modelId, whole.top())
                        : whole, summary.getTilesClassified(), summary.getTilesSkipped());
            default:
                throw new BioclassException("INTERNAL", "an empty answer in the tiled prediction");
        }
    }

    private Object next() {
        try {
            return answers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
    }

    /** Waits until the transport takes another message; false once the call has ended. */
    private boolean awaitReady() {
        synchronized (readiness) {
            while (!ended && !requests.isReady()) {
                try {
                    readiness.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
                }
            }
        }
        return !ended;
    }

    private void wake() {
        synchronized (readiness) {
            readiness.notifyAll();
        }
    }
}
