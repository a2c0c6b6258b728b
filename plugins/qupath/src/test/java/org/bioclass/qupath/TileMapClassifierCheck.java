package org.bioclass.qupath;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.TileListener;
import org.bioclass.client.TileRow;
import org.bioclass.client.TileSettings;

/**
 * Runs TileMapClassifier as the QuPath command would: a 400 x 300 slide whose left half is white, its
 * annotation's bounds read at downsample 2 (a 200 x 150 image), tiles of 50 px; then again with
 * background skipping (bright-field: the white tiles are background).
 * Usage: TileMapClassifierCheck HOST:PORT MODEL. Prints "progress DONE/TOTAL" per row as it arrives,
 * "detection RUN CLASS X Y W H MEASUREMENTS" per tile and "tiles RUN CLASSIFIED SKIPPED".
 */
public final class TileMapClassifierCheck {
    public static void main(String[] args) {
        BufferedImage slide = halfWhite(400, 300);
        Rectangle bounds = new Rectangle(0, 0, 400, 300);
        BufferedImage read = downsampled(slide, 2);
        TileListener progress = (TileRow row) -> System.out.println("progress " + row.tilesDone() + "/"
                + row.tilesTotal());
        try (GrpcBioclassClient client = new GrpcBioclassClient(args[0], 60)) {
            run("all", new TileMapClassifier(client, args[1], new TileSettings().tileSize(50)), read, bounds, progress);
            run("skip", new TileMapClassifier(client, args[1], new TileSettings().tileSize(50)
                    .skipBackground(0.8f, false, 0.05f)), read, bounds, progress);
        }
    }

    private static void run(String name, TileMapClassifier classifier, BufferedImage read, Rectangle bounds,
                            TileListener progress) {
        TileMapClassifier.Result result = classifier.classify(read, bounds, 2.0, progress);
        for (TileMapClassifier.DetectionTile tile : result.detections()) {
            Rectangle at = tile.bounds();
            System.out.println("detection " + name + " " + tile.pathClass() + " " + at.x + " " + at.y + " "
                    + at.width + " " + at.height + " " + tile.measurements());
        }
        System.out.println("tiles " + name + " " + result.map().tilesClassified() + " " + result.map().tilesSkipped());
    }

    private static BufferedImage halfWhite(int width, int height) {
        BufferedImage slide = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = slide.createGraphics();
        graphics.setColor(Color.WHITE);
        graphics.fillRect(0, 0, width / 2, height);
        graphics.dispose();
        return slide;
    }

    private static BufferedImage downsampled(BufferedImage slide, int factor) {
        BufferedImage out = new BufferedImage(slide.getWidth() / factor, slide.getHeight() / factor,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = out.createGraphics();
        graphics.drawImage(slide, 0, 0, out.getWidth(), out.getHeight(), null);
        graphics.dispose();
        return out;
    }
}
