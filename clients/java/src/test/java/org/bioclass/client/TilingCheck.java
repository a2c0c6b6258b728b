package org.bioclass.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * Classifies image files with a model over gRPC and prints each file's probabilities in label order,
 * for tests/java to compare with the Python client (a tiled model must give the same answer).
 * Usage: TilingCheck HOST:PORT MODEL LABELS FILE...
 */
public final class TilingCheck {
    public static void main(String[] args) throws IOException {
        int labels = Integer.parseInt(args[2]);
        try (BioclassClient client = new GrpcBioclassClient(args[0], 60)) {
            for (int i = 3; i < args.length; i++) {
                Path file = Paths.get(args[i]);
                String name = file.getFileName().toString();
                Prediction prediction = client.predict(args[1], ImageInput.encoded(Files.readAllBytes(file), name), labels);
                double[] probabilities = new double[labels];
                for (LabelProbability row : prediction.top()) {
                    probabilities[row.index()] = row.probability();
                }
                StringBuilder line = new StringBuilder("probabilities " + name);
                for (double p : probabilities) {
                    line.append(String.format(Locale.ROOT, " %.6f", p));
                }
                System.out.println(line);
            }
        }
    }
}
