package org.bioclass.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Tiled prediction over the py4j gateway, whose answer is one JSON document (py4j has no streams): the
 * options as the gateway reads them, and the answer replayed to the listener (grid, then the rows in
 * order) while the map is assembled, as the gRPC client does when the rows stream in.
 */
final class Py4jTiles {
    private Py4jTiles() {
    }

    /** JSON of the gateway's tile options (region as [y, x, height, width]). */
    static String options(TileSettings settings) {
        StringBuilder json = new StringBuilder("{\"tile\": ").append(Math.max(settings.tileSize(), 0))
                .append(", \"stride\": ").append(Math.max(settings.stride(), 0))
                .append(", \"top_k\": ").append(Math.max(settings.topK(), 0))
                .append(", \"aggregation\": \"").append(settings.aggregation()).append('"');
        int[] region = settings.region();
        if (region != null) {
            json.append(", \"region\": [").append(region[1]).append(", ").append(region[0]).append(", ")
                    .append(region[3]).append(", ").append(region[2]).append(']');
        }
        if (settings.skipsBackground()) {
            json.append(String.format(Locale.ROOT, ", \"skip_background\": {\"level\": %s, \"dark_background\": %s, "
                    + "\"min_foreground\": %s}", settings.backgroundLevel(), settings.darkBackground(),
                    settings.minForeground()));
        }
        return json.append('}').toString();
    }

    static TileMap replay(Map<String, Object> answer, TileListener listener) {
        TileMap.Assembler map = new TileMap.Assembler();
        TileGrid grid = grid(Json.object(answer.get("grid")));
        map.grid(grid);
        if (listener != null) {
            listener.grid(grid);
        }
        for (Object item : Json.list(answer.get("rows"))) {
            TileRow row = row(Json.object(item));
            map.row(row);
            if (listener != null) {
                listener.row(row);
            }
        }
        Map<String, Object> summary = Json.object(answer.get("summary"));
        return map.finish(Py4jBioclassClient.prediction(Json.object(summary.get("prediction"))),
                integer(summary, "tiles_classified"), integer(summary, "tiles_skipped"));
    }

    private static TileGrid grid(Map<String, Object> json) {
        int[] yxhw = ints(json.get("region"));
        List<String> labels = new ArrayList<>();
        for (Object label : Json.list(json.get("labels"))) {
            labels.add((String) label);
        }
        return new TileGrid((String) json.get("name"), (String) json.get("model_id"), integer(json, "image_width"),
                integer(json, "image_height"), new int[] {yxhw[1], yxhw[0], yxhw[3], yxhw[2]},
                integer(json, "tile_width"), integer(json, "tile_height"), integer(json, "stride"),
                ints(json.get("row_origins")), ints(json.get("column_origins")), labels,
                (String) json.get("aggregation"));
    }

    private static TileRow row(Map<String, Object> json) {
        List<TileResult> tiles = new ArrayList<>();
        for (Object item : Json.list(json.get("tiles"))) {
            Map<String, Object> tile = Json.object(item);
            List<?> values = Json.list(tile.get("probabilities"));
            float[] probabilities = new float[values.size()];
            for (int k = 0; k < probabilities.length; k++) {
                probabilities[k] = ((Number) values.get(k)).floatValue();
            }
            List<LabelProbability> top = Py4jBioclassClient.prediction(tile).top();
            tiles.add(new TileResult(integer(tile, "row"), integer(tile, "column"), integer(tile, "x"),
                    integer(tile, "y"), integer(tile, "width"), integer(tile, "height"), probabilities, top,
                    Boolean.TRUE.equals(tile.get("skipped")), ((Number) tile.get("foreground")).floatValue()));
        }
        return new TileRow(integer(json, "row"), tiles, integer(json, "tiles_done"), integer(json, "tiles_total"));
    }

    private static int integer(Map<String, Object> json, String key) {
        return ((Number) json.get(key)).intValue();
    }

    private static int[] ints(Object list) {
        List<?> values = Json.list(list);
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) values.get(i)).intValue();
        }
        return out;
    }
}
