"""Tests of the napari plugin: a package, so this conftest is not imported as the bare module `conftest`."""
