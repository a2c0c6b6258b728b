package org.bioclass.imagej;

import ij.IJ;
import ij.ImagePlus;
import ij.io.Opener;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * Opens one file of a folder as ImageJ would, without ImageJ's error boxes (a dialog nobody sees hangs
 * a batch job, and IJ.error stops a macro): a file that is no image or cannot be read is an
 * {@link Unreadable} with a short reason for the Log and the summary.
 */
final class ImageFiles {
    private ImageFiles() {
    }

    static ImagePlus open(File file) throws Unreadable {
        int type = new Opener().getFileType(file.getPath());
        switch (type) {
            case Opener.TEXT:
            case Opener.JAVA_OR_TEXT:
            case Opener.LUT:
            case Opener.ROI:
            case Opener.TABLE:
                throw new Unreadable("not an image");
            case Opener.PNG:
            case Opener.JPEG:
            case Opener.GIF:
            case Opener.BMP:
                return checked(readWithImageIo(file));
            default:
                return checked(openWithImageJ(file));
        }
    }

    /** What ImageJ's Opener does for these formats, but a damaged file throws instead of opening a box. */
    private static ImagePlus readWithImageIo(File file) throws Unreadable {
        BufferedImage image;
        try {
            image = ImageIO.read(file);
        } catch (IOException | RuntimeException failure) {
            throw new Unreadable("damaged or truncated (" + failure.getMessage() + ")");
        }
        if (image == null) {
            throw new Unreadable("not an image");
        }
        return new ImagePlus(file.getName(), image);
    }

    /** TIFF, DICOM and the formats of Fiji's readers: ImageJ's error, if any, goes to the Log, not a box. */
    private static ImagePlus openWithImageJ(File file) throws Unreadable {
        Opener opener = new Opener();
        opener.setSilentMode(true);
        IJ.redirectErrorMessages(true);
        try {
            ImagePlus image = opener.openImage(file.getPath());
            String error = IJ.getErrorMessage();
            if (image == null && error != null) {
                throw new Unreadable("cannot be opened (" + error.split("\n", 2)[0].trim() + ")");
            }
            return image;
        } catch (RuntimeException failure) {
            throw new Unreadable("cannot be opened (" + failure + ")");
        } finally {
            IJ.redirectErrorMessages(false);
        }
    }

    private static ImagePlus checked(ImagePlus image) throws Unreadable {
        if (image == null || image.getWidth() == 0 || image.getHeight() == 0) {
            throw new Unreadable("not an image");
        }
        return image;
    }

    /** A file skipped, and why in a few words. */
    static final class Unreadable extends Exception {
        Unreadable(String reason) {
            super(reason);
        }
    }
}
