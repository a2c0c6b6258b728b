"""The npe2 manifest is valid and points at the widget."""
from pathlib import Path

from npe2 import PluginManifest

import napari_bioclass


def test_manifest_points_at_the_widget():
    manifest = PluginManifest.from_file(Path(napari_bioclass.__file__).with_name("napari.yaml"))
    [command] = manifest.contributions.commands
    assert command.python_name == "napari_bioclass.widget:ClassifierWidget"
    assert command.exec is not None and manifest.contributions.widgets[0].command == command.id
