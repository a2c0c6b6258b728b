package org.bioclass.imagej;

import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import java.awt.Rectangle;
import org.bioclass.client.ImageInput;

/** ImageJ pixels as they go to the server: raw 8/16/32-bit or RGB, never re-encoded. */
final class ProcessorPixels {
    private ProcessorPixels() {
    }

    /** The processor's pixels inside bounds (null: the whole image), named for the results table. */
    static ImageInput toInput(ImageProcessor processor, Rectangle bounds, String name) {
        ImageProcessor ip = crop(processor, bounds);
        int width = ip.getWidth();
        int height = ip.getHeight();
        if (ip instanceof ByteProcessor) {
            return ImageInput.gray8((byte[]) ip.getPixels(), width, height, name);
        }
        if (ip instanceof ShortProcessor) {
            return ImageInput.gray16((short[]) ip.getPixels(), width, height, name);
        }
        if (ip instanceof FloatProcessor) {
            return ImageInput.gray32((float[]) ip.getPixels(), width, height, name);
        }
        if (ip instanceof ColorProcessor) {
            return ImageInput.rgb((int[]) ip.getPixels(), width, height, name);
        }
        throw new IllegalArgumentException("unsupported image type " + ip.getClass().getSimpleName());
    }

    private static ImageProcessor crop(ImageProcessor processor, Rectangle bounds) {
        Rectangle whole = new Rectangle(0, 0, processor.getWidth(), processor.getHeight());
        Rectangle inside = bounds == null ? whole : bounds.intersection(whole);
        if (inside.equals(whole) || inside.isEmpty()) {
            return processor;
        }
        ImageProcessor copy = processor.duplicate();
        copy.setRoi(inside);
        return copy.crop();
    }
}
