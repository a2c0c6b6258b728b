package org.bioclass.qupath;

import javafx.scene.control.MenuItem;
import qupath.lib.common.Version;
import qupath.lib.gui.QuPathGUI;
import qupath.lib.gui.extensions.QuPathExtension;

/** Adds Extensions>bioclass>Classify selected objects, Classify tiles of selected annotations and Server
 * settings (glue only: the work is in RegionClassifier, TileMapClassifier and the Java client). */
public class BioclassExtension implements QuPathExtension {
    @Override
    public void installExtension(QuPathGUI qupath) {
        MenuItem classify = new MenuItem("Classify selected objects");
        classify.setOnAction(event -> new ClassifyObjectsCommand(qupath).run());
        MenuItem tiles = new MenuItem("Classify tiles of selected annotations");
        tiles.setOnAction(event -> new ClassifyTilesCommand(qupath).run());
        MenuItem settings = new MenuItem("Server settings...");
        settings.setOnAction(event -> ServerSettings.edit());
        qupath.getMenu("Extensions>bioclass", true).getItems().addAll(classify, tiles, settings);
    }

    @Override
    public String getName() {
        return "bioclass";
    }

    @Override
    public String getDescription() {
        return "Classify objects with the models of a bioclass server";
    }

    @Override
    public Version getQuPathVersion() {
        return Version.parse("v0.5.0");
    }
}
