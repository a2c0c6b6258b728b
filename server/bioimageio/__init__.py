"""The BioImage Model Zoo format (bioimage.io, spec 0.5): import packages as bioclass models, export
bioclass models as validated packages. Transport-neutral; `bioimageio.spec` is imported on use.

processing.py maps a card's preprocessing onto bioimage.io operations and back; export.py writes and
validates a package; importing.py reads one into a card and a weights file.
"""
