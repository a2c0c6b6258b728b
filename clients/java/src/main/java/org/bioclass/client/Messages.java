package org.bioclass.client;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import org.bioclass.v1.DType;
import org.bioclass.v1.EncodedImage;
import org.bioclass.v1.Image;
import org.bioclass.v1.ListModelsResponse;
import org.bioclass.v1.ModelCard;
import org.bioclass.v1.ModelSummary;
import org.bioclass.v1.PredictRequest;
import org.bioclass.v1.PredictStreamResponse;
import org.bioclass.v1.Tensor;

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
        List<LabelProbability> top = new ArrayList<>();
        for (org.bioclass.v1.LabelProbability row : message.getTopList()) {
            top.add(new LabelProbability(row.getLabel(), row.getProbability(), row.getIndex()));
        }
        return new Prediction(message.getName(), message.getModelId(), top);
    }

    static Prediction streamed(PredictStreamResponse response, List<ImageInput> images, String modelId) {
        if (response.hasPrediction()) {
            return prediction(response.getPrediction());
        }
        String name = images.get((int) response.getIndex()).name();
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
}
