import COpenCV
public import PlateCore

/// Vehicles as moving blobs against a learned background (OpenCV MOG2), for fixed cameras: what
/// `detection_mode: vehicle` uses when no vehicle model is configured. Each blob becomes a vehicle of
/// unknown type with a colour estimate; make and model stay empty (never invented).
///
/// A blob must cover `minAreaFraction` of the frame (default 0.4 %) and be seen after the background had
/// `warmupFrames` frames to settle, so sensor noise and the first frames do not become vehicles.
public final class MotionVehicleDetector: SequentialVehicleDetector {
    private let handle: OpaquePointer
    private let minAreaFraction: Double
    private let warmupFrames: Int
    private var frames = 0

    /// A detector; `history` frames of background memory, frames analysed at `workWidth` pixels wide.
    public init(history: Int = 300, varianceThreshold: Double = 25, workWidth: Int = 320,
                minAreaFraction: Double = 0.004, warmupFrames: Int = 5) throws(ModelError) {
        var pointer: OpaquePointer?
        var err = [CChar](repeating: 0, count: 256)
        let status = copencv_motion_create(Int32(history), varianceThreshold, Int32(workWidth), &pointer, &err, err.count)
        guard status == 0, let pointer else {
            throw ModelError.inference("motion detector: \(String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        handle = pointer
        self.minAreaFraction = minAreaFraction
        self.warmupFrames = warmupFrames
    }

    deinit { copencv_motion_free(handle) }

    /// Updates the background with `image` (BGR24) and returns the moving blobs as vehicles.
    public func vehicles(in image: Image, at time: MediaTime) throws -> [VehicleDetection] {
        precondition(image.format == .bgr24, "motion detection takes BGR24")
        // The first frame is the background; after that the background learns at most 0.5 % per frame, so a
        // vehicle driving in early is not absorbed into it (OpenCV's automatic rate starts at 1/frames).
        let learningRate = frames == 0 ? 1 : min(0.005, 1 / Double(frames + 1))
        var boxes = [Float](repeating: 0, count: 64 * 4)
        var count: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let status = copencv_motion_apply(handle, image.buffer.bytes.assumingMemoryBound(to: UInt8.self), Int32(image.width),
                                          Int32(image.height), Int32(image.stride), learningRate, minAreaFraction, &boxes, 64, &count,
                                          &err, err.count)
        guard status == 0 else {
            throw ModelError.inference("motion detector: \(String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        frames += 1
        guard frames > warmupFrames else { return [] }
        let frameArea = Double(image.width * image.height)
        return (0..<Int(count)).map { i in
            let box = BoundingBox(xmin: Double(boxes[i * 4]), ymin: Double(boxes[i * 4 + 1]),
                                  xmax: Double(boxes[i * 4 + 2]), ymax: Double(boxes[i * 4 + 3]))
            // A bigger blob is more surely a vehicle than a flicker: the score grows with its share of the frame.
            let score = min(0.9, 0.5 + 20 * box.width * box.height / frameArea)
            return VehicleDetection(type: .unknown, score: (score * 1000).rounded() / 1000, box: box,
                                    color: [VehicleColor.estimate(image, box: box)])
        }
    }
}

/// A vehicle's body colour from its box: the most common colour class of the pixels in the box's middle
/// band (above the wheels, below the windows, away from the road at the edges).
public enum VehicleColor {
    /// The names used (Plate Recognizer's vehicle colours).
    public static let names = ["white", "black", "silver", "grey", "red", "blue", "green", "yellow", "brown", "orange"]

    /// The dominant colour and the share of sampled pixels in it.
    public static func estimate(_ image: Image, box: BoundingBox) -> ScoredLabel {
        let x0 = max(0, Int(box.xmin + box.width * 0.2)), x1 = min(image.width, Int(box.xmax - box.width * 0.2))
        let y0 = max(0, Int(box.ymin + box.height * 0.45)), y1 = min(image.height, Int(box.ymax - box.height * 0.2))
        guard x1 > x0, y1 > y0 else { return ScoredLabel("grey", score: 0) }
        var counts = [Int](repeating: 0, count: names.count)
        let p = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        let step = max(1, min(x1 - x0, y1 - y0) / 24)
        var total = 0
        for y in Swift.stride(from: y0, to: y1, by: step) {
            for x in Swift.stride(from: x0, to: x1, by: step) {
                let o = y * image.stride + 3 * x
                counts[classify(b: p[o], g: p[o + 1], r: p[o + 2])] += 1
                total += 1
            }
        }
        let best = counts.indices.max { counts[$0] < counts[$1] } ?? 3
        return ScoredLabel(names[best], score: total == 0 ? 0 : (Double(counts[best]) / Double(total) * 1000).rounded() / 1000)
    }

    /// The index in `names` of one pixel's colour (HSV thresholds).
    static func classify(b: UInt8, g: UInt8, r: UInt8) -> Int {
        let (hue, saturation, maxv) = PlateColor.hsv(b: b, g: g, r: r)
        if maxv < 0.2 { return 1 }                                            // black
        if saturation < 0.18 {
            if maxv > 0.8 { return 0 }                                        // white
            return maxv > 0.55 ? 2 : 3                                        // silver / grey
        }
        switch hue {
        case 15..<40: return maxv < 0.6 ? 8 : 9                               // brown / orange
        case 40..<70: return 7                                                // yellow
        case 70..<170: return 6                                               // green
        case 170..<260: return 5                                              // blue
        case 260..<330: return 4                                              // purple-ish: nearest is red
        default: return 4                                                     // red
        }
    }
}
