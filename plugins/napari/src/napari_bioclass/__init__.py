"""napari-bioclass: classify napari image layers with the models of a bioclass server.

The widget lives in `napari_bioclass.widget`; the logic it wraps, testable without a GUI, in
`napari_bioclass.classify` (arrays) and `napari_bioclass.layers` (napari layers).
"""
__version__ = "0.1.0"
