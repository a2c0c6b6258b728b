package org.bioclass.qupath;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.bioclass.client.GrpcBioclassClient;
import org.bioclass.client.RegionResult;

/**
 * Runs RegionClassifier as the QuPath command would, on regions of a synthetic slide whose left
 * half is white and right half black, read as the BufferedImage types QuPath servers return.
 * Usage: RegionClassifierCheck HOST:PORT MODEL. Prints "region ID LABEL PROBABILITY MEASUREMENTS".
 */
public final class RegionClassifierCheck {
    public static void main(String[] args) {
        BufferedImage slide = halfWhiteSlide(64, 32);
        List<RegionClassifier.Region> regions = new ArrayList<>();
        for (Rectangle tile : RegionClassifier.tileGrid(new Rectangle(0, 0, 64, 32), 32)) {
            String id = "tile-" + tile.x + "-" + tile.y;
            regions.add(new RegionClassifier.Region(id + "-rgb", copy(slide, tile, BufferedImage.TYPE_INT_RGB), tile));
            regions.add(new RegionClassifier.Region(id + "-gray8", copy(slide, tile, BufferedImage.TYPE_BYTE_GRAY),
                    tile));
            regions.add(new RegionClassifier.Region(id + "-gray16", copy(slide, tile,
                    BufferedImage.TYPE_USHORT_GRAY), tile));
        }
        try (GrpcBioclassClient client = new GrpcBioclassClient(args[0], 20)) {
            RegionClassifier classifier = new RegionClassifier(client, args[1], 2);
            for (RegionResult result : classifier.classify(regions)) {
                System.out.println("region " + result.id() + " " + result.label() + " "
                        + String.format(java.util.Locale.ROOT, "%.4f", result.probability()) + " "
                        + classifier.measurements(result));
            }
        }
        System.out.println("grid " + RegionClassifier.tileGrid(new Rectangle(10, 10, 50, 20), 32).size());
    }

    private static BufferedImage halfWhiteSlide(int width, int height) {
        BufferedImage slide = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = slide.createGraphics();
        graphics.setColor(Color.WHITE);
        graphics.fillRect(0, 0, width / 2, height);
        graphics.dispose();
        return slide;
    }

    private static BufferedImage copy(BufferedImage slide, Rectangle region, int type) {
        BufferedImage out = new BufferedImage(region.width, region.height, type);
        Graphics2D graphics = out.createGraphics();
        graphics.drawImage(slide.getSubimage(region.x, region.y, region.width, region.height), 0, 0, null);
        graphics.dispose();
        return out;
    }
}
