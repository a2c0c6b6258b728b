"""Training a tiled card: random native-scale crops of the whole scaled field; evaluation rows are the
served tiles, aggregated per image as served."""
import numpy as np
import tifffile
from numpy.lib.stride_tricks import sliding_window_view

from bioclass.server.cards import ModelCard
from bioclass.server.training.data import ImageSet, TrainingImages, per_image, prepared_tensor, row_targets
from paths import DATASETS


def test_tiled_training_draws_native_scale_crops_of_the_whole_scaled_field():
    field = tifffile.imread(next((DATASETS / "tiff16-samples").glob("binucleate_*.tif")))[:48, :40]
    card = ModelCard.model_validate({"id": "t", "framework": "onnx", "weights": "m.onnx",
                                     "input": {"size": [16, 16], "channels": 1}, "tiling": {"size": [16, 16]},
                                     "preprocessing": {"scale": "none", "color": "gray"},
                                     "output": {"labels": ["a", "b", "c"]}})
    images_set = ImageSet(["a", "b"], [field, field[:16, :16]], [1, 0])
    dataset = TrainingImages(images_set, card, seed=0)
    assert len(dataset) == 3 * 3 + 1 and dataset.targets.tolist() == [1] * 9 + [0]  # one epoch covers each field
    windows = sliding_window_view(field.astype(np.float32), (16, 16))
    for index in range(9):
        crop, target = dataset[index]
        turns = [np.rot90(c, k) for c in (crop[0].numpy(), crop[0].numpy()[:, ::-1]) for k in range(4)]
        assert any(np.all(windows == t, axis=(2, 3)).any() for t in turns) and int(target) == 1
    assert prepared_tensor(images_set, card).shape == (10, 1, 16, 16)
    assert row_targets(images_set, card).tolist() == [1] * 9 + [0]
    rows = np.tile([[0.25, 0.75, 0.0]], (10, 1)).astype(np.float32)
    rows[9] = [1.0, 0.0, 0.0]
    assert per_image(rows, images_set, card).tolist() == [[0.25, 0.75, 0.0], [1.0, 0.0, 0.0]]
