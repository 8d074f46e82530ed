public import PlateCore

/// Ready-made recognition values for tests.
public enum FakePlates {
    /// A plate read of `text` with `score`, in `box` (by default a 120 × 30 box near the image centre).
    public static func read(_ text: String, score: Double = 0.9,
                            box: BoundingBox = BoundingBox(x: 300, y: 200, width: 120, height: 30)) -> PlateRead {
        PlateRead(text: text, score: score, detectionScore: 0.95, box: box)
    }

    /// A recognition result for an image of `size` with `plates` and no vehicle.
    public static func result(_ plates: [PlateRead], size: ImageSize = ImageSize(width: 64, height: 48))
        -> RecognitionResult {
        RecognitionResult(imageSize: size, plates: plates)
    }
}
