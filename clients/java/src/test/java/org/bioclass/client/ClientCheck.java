package org.bioclass.client;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Exercises a BioclassClient against a real server for tests/java: prints one line per result,
 * which the pytest test asserts. Usage: ClientCheck grpc HOST:PORT MODEL | ClientCheck py4j PORT MODEL
 * | ClientCheck deadline HOST:PORT SECONDS (lists models with that deadline and prints the failure).
 */
public final class ClientCheck {
    private static final int SIZE = 16;

    public static void main(String[] args) throws IOException {
        if (args[0].equals("deadline")) {
            printFailure(() -> {
                try (BioclassClient silent = new GrpcBioclassClient(args[1], Long.parseLong(args[2]))) {
                    silent.listModels();
                }
            });
            return;
        }
        try (BioclassClient client = open(args[0], args[1])) {
            String model = args[2];
            List<ImageInput> images = images();
            List<String> ids = new ArrayList<>();
            for (ModelInfo info : client.listModels()) {
                ids.add(info.id());
            }
            System.out.println("models " + String.join(",", ids));
            System.out.println("labels " + String.join(",", client.getModel(model).labels()));
            for (ImageInput image : images) {
                Prediction prediction = client.predict(model, image, 2);
                System.out.println("predict " + prediction.name() + " " + prediction.label() + " " + sum(prediction));
            }
            List<ImageInput> batch = Arrays.asList(images.get(0), ImageInput.encoded(new byte[] {1, 2, 3}, "junk"),
                    images.get(1));
            for (Prediction prediction : client.predictMany(model, batch, 1)) {
                String outcome = prediction.failed() ? "ERROR " + prediction.errorCode() : prediction.label();
                System.out.println("many " + prediction.name() + " " + outcome);
            }
            printFailure(() -> client.predict("no-such-model", images.get(0), 1));
            printFailure(() -> client.predict("corrupt-weights", images.get(0), 1));
        }
        printFailure(() -> {
            try (BioclassClient down = open(args[0], args[0].equals("grpc") ? "127.0.0.1:1" : "1")) {
                down.listModels();
            }
        });
    }

    private static BioclassClient open(String transport, String where) {
        return transport.equals("grpc") ? new GrpcBioclassClient(where, 20) : new Py4jBioclassClient(
                Integer.parseInt(where), 20);
    }

    /** White and black images in every pixel type the client sends, plus a PNG file. */
    private static List<ImageInput> images() throws IOException {
        int n = SIZE * SIZE;
        byte[] white8 = new byte[n];
        short[] white16 = new short[n];
        float[] white32 = new float[n];
        int[] whiteRgb = new int[n];
        Arrays.fill(white8, (byte) 255);
        Arrays.fill(white16, (short) 65535);
        Arrays.fill(white32, 1f);
        Arrays.fill(whiteRgb, 0xffffffff);
        return Arrays.asList(
                ImageInput.gray8(white8, SIZE, SIZE, "white8"), ImageInput.gray8(new byte[n], SIZE, SIZE, "black8"),
                ImageInput.gray16(white16, SIZE, SIZE, "white16"),
                ImageInput.gray16(new short[n], SIZE, SIZE, "black16"),
                ImageInput.gray32(white32, SIZE, SIZE, "white32"),
                ImageInput.gray32(new float[n], SIZE, SIZE, "black32"),
                ImageInput.rgb(whiteRgb, SIZE, SIZE, "whiteRGB"), ImageInput.rgb(new int[n], SIZE, SIZE, "blackRGB"),
                ImageInput.encoded(png(0xffffff), "whitePNG"), ImageInput.encoded(png(0), "blackPNG"));
    }

    private static byte[] png(int rgb) throws IOException {
        BufferedImage image = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private static String sum(Prediction prediction) {
        double total = 0;
        for (LabelProbability row : prediction.top()) {
            total += row.probability();
        }
        return String.format(java.util.Locale.ROOT, "%.4f", total);
    }

    private static void printFailure(Runnable call) {
        try {
            call.run();
            System.out.println("error NONE");
        } catch (BioclassException e) {
            System.out.println(Outcomes.error(e));
        }
    }
}
