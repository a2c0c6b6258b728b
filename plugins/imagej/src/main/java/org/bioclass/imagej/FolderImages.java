package org.bioclass.imagej;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import java.io.File;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.bioclass.client.ImageInput;

/**
 * The slices of a folder's images, read one file at a time as the stream asks for them (so files are
 * read while earlier ones are classified). A file that cannot be opened gets its Log line at once and
 * joins {@link #skipped()}; slice i of the stream is {@link #source(int)}. Used by one thread only.
 */
final class FolderImages implements Iterator<ImageInput> {
    private final File[] files;
    private final List<Source> sources = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();
    private final Deque<ImageInput> pending = new ArrayDeque<>();
    private int next;

    FolderImages(File folder) {
        File[] listed = folder.listFiles(file -> file.isFile() && !file.getName().startsWith("."));
        files = listed == null ? new File[0] : listed;
        Arrays.sort(files);
    }

    int fileCount() {
        return files.length;
    }

    @Override
    public boolean hasNext() {
        while (pending.isEmpty() && next < files.length) {
            read(files[next++]);
        }
        return !pending.isEmpty();
    }

    @Override
    public ImageInput next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return pending.removeFirst();
    }

    /** The file and slice (1, 2, ...) of the stream's index-th image. */
    Source source(int index) {
        return sources.get(index);
    }

    /** "NAME REASON" of every file skipped so far, reasons without their details. */
    List<String> skipped() {
        return skipped;
    }

    /** One Log line per file that cannot be classified (also one the server refused). */
    void skip(String name, String reason) {
        IJ.log(Failures.TITLE + ": skipped " + name + ": " + reason);
        skipped.add(name + " " + reason.split(" \\(", 2)[0]);
    }

    private void read(File file) {
        ImagePlus image;
        try {
            image = ImageFiles.open(file);
        } catch (ImageFiles.Unreadable unreadable) {
            skip(file.getName(), unreadable.getMessage());
            return;
        }
        ImageStack stack = image.getStack();
        for (int slice = 1; slice <= stack.getSize(); slice++) {
            pending.add(ProcessorPixels.toInput(stack.getProcessor(slice), null, file.getName()));
            sources.add(new Source(file.getName(), slice));
        }
        image.close();
    }

    static final class Source {
        final String name;
        final int slice;

        Source(String name, int slice) {
            this.name = name;
            this.slice = slice;
        }
    }
}
