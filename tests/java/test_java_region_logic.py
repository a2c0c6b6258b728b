"""The app-independent logic of the QuPath extension and the Icy plugin against the real server
(QuPath and Icy themselves cannot be installed here)."""
from __future__ import annotations

from java_builds import REPO

MODEL = "brightness-onnx"


def plugin_classes(plugin: str):
    build = REPO / "plugins" / plugin / "build"
    return build / "classes", build / "test-classes"


def test_qupath_region_classifier_labels_tiles_and_names_measurements(java_build, server):
    output = java_build.run("org.bioclass.qupath.RegionClassifierCheck", server.address, MODEL,
                            extra=plugin_classes("qupath"))
    regions = {line.split()[1]: line.split()[2:4] for line in output.splitlines() if line.startswith("region ")}
    for kind in ("rgb", "gray8", "gray16"):
        assert regions[f"tile-0-0-{kind}"] == ["bright", "1.0000"]
        assert regions[f"tile-32-0-{kind}"] == ["dark", "1.0000"]
    assert f"bioclass {MODEL}: bright=1.0" in output
    assert "grid 2" in output


def test_icy_plane_regions_classify_each_roi_of_banded_planes(java_build, server):
    output = java_build.run("plugins.bioclass.classifier.PlaneRegionsCheck", server.address, MODEL,
                            extra=plugin_classes("icy"))
    rows = [line.split("\t") for line in output.splitlines()]
    assert [(kind, region, label) for kind, region, label, _ in rows] == [
        ("float3", "t=0 z=0 left", "bright"), ("float3", "t=0 z=0 right", "dark"),
        ("uint16", "t=0 z=1 left", "bright"), ("uint16", "t=0 z=1 right", "dark"),
        ("whole", "t=1 z=0 image", "bright")]
