"""napari-bioclass: classify napari image layers with the models of a bioclass server.

The widget lives in `napari_bioclass.widget` (tabs in `annotate_tab` and `train_tab`); the logic
it wraps, testable without a GUI, in `classify` (arrays), `layers` (napari layers), `annotation`
(sorting a folder into classes), `suggestions` (active learning) and `training_run` (a training job).
"""
__version__ = "0.1.0"
