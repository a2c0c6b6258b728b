package org.bioclass.client;

/** Element type of raw pixels, as the server's Tensor message carries them. */
public enum PixelType {
    UINT8(1), UINT16(2), FLOAT32(4);

    private final int bytes;

    PixelType(int bytes) {
        this.bytes = bytes;
    }

    public int bytesPerSample() {
        return bytes;
    }

    /** The lower-case name the Python side uses ("uint8", ...). */
    public String pythonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
