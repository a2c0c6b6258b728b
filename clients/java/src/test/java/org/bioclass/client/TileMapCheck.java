package org.bioclass.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import javax.imageio.ImageIO;

/**
 * Classifies one image in tiles and prints what arrives and the assembled maps, for tests/java to compare
 * with the Python client's predict_tiles. MODE: inline (the file's bytes in the header), upload (chunks),
 * server (the path, read by the server under its data roots), py4j (HOST:PORT is then the py4j
 * gateway's port; the file is decoded here and sent as raw pixels) or stop (inline, with a listener that
 * throws at the first row: prints "stopped ..." and classifies again on the same client).
 * Usage: TileMapCheck HOST:PORT MODEL TILE STRIDE MODE FILE [X Y WIDTH HEIGHT]
 * Prints "grid ...", "row R DONE/TOTAL TILES" as rows arrive, "summary ...", then "p K R C VALUE" and
 * "label R C VALUE" (Float.toString: exact), or "error CODE: DETAIL" when the call fails.
 */
public final class TileMapCheck {
    public static void main(String[] args) throws IOException {
        TileSettings settings = new TileSettings().tileSize(Integer.parseInt(args[2]))
                .stride(Integer.parseInt(args[3])).topK(2);
        if (args.length > 9) {
            settings.region(Integer.parseInt(args[6]), Integer.parseInt(args[7]), Integer.parseInt(args[8]),
                    Integer.parseInt(args[9]));
        }
        Path file = Paths.get(args[5]);
        TileListener printer = new TileListener() {
            @Override
            public void grid(TileGrid grid) {
                System.out.println("grid " + grid.rows() + " " + grid.columns() + " " + grid.tileWidth() + " "
                        + grid.tileHeight() + " " + grid.stride() + " " + String.join(",", grid.labels()));
            }

            @Override
            public void row(TileRow row) {
                System.out.println("row " + row.row() + " " + row.tilesDone() + "/" + row.tilesTotal() + " "
                        + row.tiles().size());
            }
        };
        try (BioclassClient client = args[4].equals("py4j") ? new Py4jBioclassClient(Integer.parseInt(args[0]))
                : new GrpcBioclassClient(args[0], 60)) {
            print(classify(client, args[1], args[4], file, settings, printer));
        } catch (BioclassException failure) {
            System.out.println("error " + failure.code() + ": " + failure.detail());
        }
    }

    private static TileMap classify(BioclassClient client, String model, String mode, Path file,
                                    TileSettings settings, TileListener printer) throws IOException {
        GrpcBioclassClient grpc = client instanceof GrpcBioclassClient ? (GrpcBioclassClient) client : null;
        switch (mode) {
            case "stop":
                ImageInput bytes = ImageInput.encoded(Files.readAllBytes(file), file.getFileName().toString());
                try {
                    client.predictTiles(model, bytes, settings, row -> {
                        throw new IllegalStateException("stop at row " + row.row());
                    });
                } catch (IllegalStateException stopped) {
                    System.out.println("stopped " + stopped.getMessage());
                }
                return client.predictTiles(model, bytes, settings, printer);
            case "py4j":
                ImageInput pixels = BufferedImages.toInput(ImageIO.read(file.toFile()), file.getFileName().toString());
                return client.predictTiles(model, pixels, settings, printer);
            case "inline":
                ImageInput image = ImageInput.encoded(Files.readAllBytes(file), file.getFileName().toString());
                return client.predictTiles(model, image, settings, printer);
            case "upload":
                return grpc.predictTilesFile(model, file, settings, printer);
            default:
                return grpc.predictTilesOnServer(model, file.toAbsolutePath().toString(), settings, printer);
        }
    }

    private static void print(TileMap map) {
        System.out.println("summary " + map.summary().label() + " " + map.tilesClassified() + " "
                + map.tilesSkipped());
        float[][][] probabilities = map.probabilities();
        for (int k = 0; k < probabilities.length; k++) {
            for (int r = 0; r < probabilities[k].length; r++) {
                for (int c = 0; c < probabilities[k][r].length; c++) {
                    System.out.println("p " + k + " " + r + " " + c + " " + probabilities[k][r][c]);
                }
            }
        }
        int[][] labels = map.labels();
        for (int r = 0; r < labels.length; r++) {
            for (int c = 0; c < labels[r].length; c++) {
                System.out.println("label " + r + " " + c + " " + labels[r][c]);
            }
        }
    }
}
