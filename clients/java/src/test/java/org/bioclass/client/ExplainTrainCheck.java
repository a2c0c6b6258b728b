package org.bioclass.client;

import java.util.Locale;

/**
 * Exercises explain and the training calls of a BioclassClient for tests/java, one line per result.
 * Usage: ExplainTrainCheck grpc HOST:PORT MODEL [FOLDER] | ExplainTrainCheck py4j PORT MODEL [FOLDER];
 * with FOLDER (class-per-folder, on the server) it also trains a tiny model there and classifies with it.
 */
public final class ExplainTrainCheck {
    private static final int WIDTH = 24;
    private static final int HEIGHT = 10;

    public static void main(String[] args) {
        try (BioclassClient client = args[0].equals("grpc") ? new GrpcBioclassClient(args[1], 60)
                : new Py4jBioclassClient(Integer.parseInt(args[1]), 60)) {
            String model = args[2];
            byte[] white = new byte[WIDTH * HEIGHT];
            java.util.Arrays.fill(white, (byte) 255);
            ImageInput[] images = {ImageInput.gray8(white, WIDTH, HEIGHT, "white"),
                ImageInput.gray8(new byte[WIDTH * HEIGHT], WIDTH, HEIGHT, "black")};
            for (ImageInput image : images) {
                Explanation map = client.explain(model, image, null, "occlusion");
                print(image.name(), map);
            }
            print("black-as-bright", client.explain(model, images[1], "Bright", null));
            failure(() -> client.explain(model, images[0], "purple", "auto"));
            failure(() -> client.getJob("no-such-job"));
            failure(() -> client.trainFromServerFolder("/no/such/folder", "mobilenetv3_small_050", 1, 32, "x"));
            if (args.length > 3) {
                train(client, args[3], images[0]);
            }
        }
    }

    private static void train(BioclassClient client, String folder, ImageInput image) {
        String job = client.trainFromServerFolder(folder, new TrainSettings().architecture("mobilenetv3_small_050")
                .epochs(1).imageSize(32).batchSize(8).learningRate(1e-3).threads(1).modelId("java-tiny"));
        int[] updates = {0};
        java.util.List<String> states = new java.util.ArrayList<>();
        JobStatus done = client.watchJob(job, update -> {
            updates[0]++;
            if (states.isEmpty() || !states.get(states.size() - 1).equals(update.state())) {
                states.add(update.state());
            }
        });
        System.out.println("job " + done.state() + " model " + done.modelId() + " updates " + updates[0] + " states "
                + String.join(",", states) + " fraction " + done.fraction());
        Prediction prediction = client.predict(done.modelId(), image, 2);
        System.out.println("trained predict " + prediction.top().size() + " " + prediction.label());
    }

    private static void print(String name, Explanation map) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float value : map.saliency()) {
            min = Math.min(min, value);
            max = Math.max(max, value);
        }
        System.out.println(String.format(Locale.ROOT, "explain %s %dx%d %s %s predicted=%s min=%.3f max=%.3f",
                name, map.width(), map.height(), map.method(), map.classLabel(), map.prediction().label(), min, max));
    }

    private static void failure(Runnable call) {
        try {
            call.run();
            System.out.println("error NONE");
        } catch (BioclassException e) {
            System.out.println(Outcomes.error(e));
        }
    }
}
