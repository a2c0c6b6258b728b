package org.bioclass.client;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bioclass.v1.DType;
import org.bioclass.v1.DatasetSource;
import org.bioclass.v1.EncodedImage;
import org.bioclass.v1.ExplainOptions;
import org.bioclass.v1.ExplainRequest;
import org.bioclass.v1.ExplainResponse;
import org.bioclass.v1.Job;
import org.bioclass.v1.JobState;
import org.bioclass.v1.JobUpdate;
import org.bioclass.v1.Image;
import org.bioclass.v1.ListModelsResponse;
import org.bioclass.v1.ModelCard;
import org.bioclass.v1.ModelSummary;
import org.bioclass.v1.PredictRequest;
import org.bioclass.v1.PredictStreamResponse;
import org.bioclass.v1.PredictTilesHeader;
import org.bioclass.v1.Region;
import org.bioclass.v1.TileAggregation;
import org.bioclass.v1.BackgroundSkip;
import org.bioclass.v1.TileOptions;
import org.bioclass.v1.Tensor;
import org.bioclass.v1.TrainConfig;
import org.bioclass.v1.TrainRequest;

/** Conversions between the generated protobuf messages and the plain types of this package. */
final class Messages {
    private Messages() {
    }

    static PredictRequest predictRequest(String modelId, ImageInput image, int topK) {
        return PredictRequest.newBuilder().setModelId(modelId).setTopK(Math.max(topK, 0))
                .setImage(image(image)).build();
    }

    static Image image(ImageInput input) {
        Image.Builder image = Image.newBuilder().setName(input.name());
        if (input.isEncoded()) {
            return image.setEncoded(EncodedImage.newBuilder().setData(ByteString.copyFrom(input.encodedBytes())))
                    .build();
        }
        Tensor.Builder tensor = Tensor.newBuilder().setDtype(dtype(input.type()))
                .addShape(input.height()).addShape(input.width()).setData(ByteString.copyFrom(input.pixelBytes()));
        if (input.channels() > 0) {
            tensor.addShape(input.channels()).setAxes("yxc");
        } else {
            tensor.setAxes("yx");
        }
        return image.setTensor(tensor).build();
    }

    static List<ModelInfo> models(ListModelsResponse response) {
        List<ModelInfo> models = new ArrayList<>();
        for (ModelSummary summary : response.getModelsList()) {
            models.add(new ModelInfo(summary.getId(), summary.getName(), summary.getFramework(),
                    summary.getLabelsList(), summary.getDescription(), summary.getError()));
        }
        return models;
    }

    static ModelInfo model(ModelCard card) {
        return new ModelInfo(card.getId(), card.getName(), card.getFramework(), card.getOutput().getLabelsList(),
                card.getDescription(), card.getError());
    }

    static Prediction prediction(org.bioclass.v1.Prediction message) {
        return new Prediction(message.getName(), message.getModelId(), top(message.getTopList()));
    }

    static Prediction streamed(PredictStreamResponse response, String name, String modelId) {
        if (response.hasPrediction()) {
            return prediction(response.getPrediction());
        }
        return Prediction.failed(name, modelId, response.getError().getCode(), response.getError().getMessage());
    }

    private static DType dtype(PixelType type) {
        switch (type) {
            case UINT8:
                return DType.UINT8;
            case UINT16:
                return DType.UINT16;
            default:
                return DType.FLOAT32;
        }
    }

    static ExplainRequest explainRequest(String modelId, ImageInput image, String targetLabel, String method) {
        ExplainOptions.Builder options = ExplainOptions.newBuilder()
                .setMethod(method == null ? "" : method.trim().toLowerCase(Locale.ROOT));
        if (targetLabel != null && !targetLabel.trim().isEmpty()) {
            options.setTargetLabel(targetLabel.trim());
        }
        return ExplainRequest.newBuilder().setModelId(modelId).setImage(image(image)).setOptions(options).build();
    }

    static Explanation explanation(ExplainResponse response) {
        org.bioclass.v1.Explanation message = response.getExplanation();
        Tensor map = message.getSaliency();
        if (map.getShapeCount() != 2 || map.getDtype() != DType.FLOAT32) {
            throw new BioclassException("INTERNAL", "unexpected saliency map: " + map.getDtype() + " of shape "
                    + map.getShapeList());
        }
        int height = map.getShape(0);
        int width = map.getShape(1);
        float[] values = new float[width * height];
        ByteBuffer data = map.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (data.remaining() != values.length * 4) {
            throw new BioclassException("INTERNAL", "saliency map of " + data.remaining() + " bytes for "
                    + width + "x" + height);
        }
        data.asFloatBuffer().get(values);
        return new Explanation(values, width, height, message.getClassLabel(), message.getClassIndex(),
                message.getMethod(), message.getExplainMs(), prediction(response.getPrediction()));
    }

    static TrainRequest trainRequest(String folder, TrainSettings settings) {
        TrainConfig.Builder config = TrainConfig.newBuilder().setArch(settings.architecture())
                .setModelId(settings.modelId()).setOverwrite(settings.overwrite())
                .setEpochs(Math.max(settings.epochs(), 0)).setBatchSize(Math.max(settings.batchSize(), 0))
                .setLearningRate(Math.max(settings.learningRate(), 0.0)).setThreads(Math.max(settings.threads(), 0))
                .setMaxSeconds(Math.max(settings.maxSeconds(), 0.0));
        if (settings.imageSize() > 0) {
            config.setImageHeight(settings.imageSize()).setImageWidth(settings.imageSize());
        }
        return TrainRequest.newBuilder().setDataset(DatasetSource.newBuilder().setServerDir(folder))
                .setConfig(config).build();
    }

    static JobStatus job(Job job) {
        org.bioclass.v1.Progress progress = job.getProgress();
        return new JobStatus(job.getId(), state(job.getState()), progress.getStage(), progress.getEpoch(),
                progress.getEpochs(), progress.getStep(), progress.getSteps(), progress.getLoss(),
                progress.getEtaSeconds(), job.getError(), job.getModelId(), new ArrayList<>(job.getLogList()));
    }

    static JobStatus update(JobUpdate update) {
        org.bioclass.v1.Progress progress = update.getProgress();
        return new JobStatus(update.getJobId(), state(update.getState()), progress.getStage(), progress.getEpoch(),
                progress.getEpochs(), progress.getStep(), progress.getSteps(), progress.getLoss(),
                progress.getEtaSeconds(), update.getError(), "", new ArrayList<>(update.getLogList()));
    }

    /** JOB_SUCCEEDED -> "SUCCEEDED", JOB_STATE_UNSPECIFIED -> "UNSPECIFIED". */
    private static String state(JobState state) {
        if (state == JobState.UNRECOGNIZED) {
            return "UNSPECIFIED";
        }
        String name = state.name();
        return name.startsWith("JOB_STATE_") ? name.substring("JOB_STATE_".length()) : name.substring("JOB_".length());
    }

    /** The header of PredictTiles without its source (the caller sets image, server path or upload). */
    static PredictTilesHeader.Builder tilesHeader(String modelId, String name, TileSettings settings) {
        TileOptions.Builder options = TileOptions.newBuilder().setTileSize(Math.max(settings.tileSize(), 0))
                .setStride(Math.max(settings.stride(), 0)).setTopK(Math.max(settings.topK(), 0))
                .setAggregation("majority".equals(settings.aggregation()) ? TileAggregation.AGGREGATION_MAJORITY
                        : TileAggregation.AGGREGATION_MEAN);
        int[] region = settings.region();
        if (region != null) {
            options.setRegion(Region.newBuilder().setX(Math.max(region[0], 0)).setY(Math.max(region[1], 0))
                    .setWidth(region[2]).setHeight(region[3]));
        }
        if (settings.skipsBackground()) {
            options.setSkipBackground(BackgroundSkip.newBuilder().setLevel(settings.backgroundLevel())
                    .setDarkBackground(settings.darkBackground()).setMinForeground(settings.minForeground()));
        }
        return PredictTilesHeader.newBuilder().setModelId(modelId).setName(name == null ? "" : name)
                .setOptions(options);
    }

    static TileGrid grid(org.bioclass.v1.TileGrid grid) {
        Region region = grid.getRegion();
        return new TileGrid(grid.getName(), grid.getModelId(), grid.getImageWidth(), grid.getImageHeight(),
                new int[] {region.getX(), region.getY(), region.getWidth(), region.getHeight()}, grid.getTileWidth(),
                grid.getTileHeight(), grid.getStride(), ints(grid.getRowOriginsList()),
                ints(grid.getColumnOriginsList()), new ArrayList<>(grid.getLabelsList()),
                grid.getAggregation() == TileAggregation.AGGREGATION_MAJORITY ? "majority" : "mean");
    }

    static TileRow row(org.bioclass.v1.TileRow row) {
        List<TileResult> tiles = new ArrayList<>(row.getTilesCount());
        for (org.bioclass.v1.TileResult tile : row.getTilesList()) {
            float[] probabilities = new float[tile.getProbabilitiesCount()];
            for (int k = 0; k < probabilities.length; k++) {
                probabilities[k] = tile.getProbabilities(k);
            }
            Region at = tile.getTile();
            tiles.add(new TileResult(tile.getRow(), tile.getColumn(), at.getX(), at.getY(), at.getWidth(),
                    at.getHeight(), probabilities, top(tile.getTopList()), tile.getSkipped(), tile.getForeground()));
        }
        return new TileRow(row.getRow(), tiles, row.getTilesDone(), row.getTilesTotal());
    }

    private static int[] ints(List<Integer> values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    private static List<LabelProbability> top(List<org.bioclass.v1.LabelProbability> rows) {
        List<LabelProbability> top = new ArrayList<>(rows.size());
        for (org.bioclass.v1.LabelProbability row : rows) {
            top.add(new LabelProbability(row.getLabel(), row.getProbability(), row.getIndex()));
        }
        return top;
    }
}
