internal import COpenCV
import Foundation
public import PlateCore

/// A plate detector: an ONNX model in one of `DetectorModelConfiguration.Format`'s layouts, run by OpenCV.
///
/// Not thread-safe (it owns a cv::dnn::Net and reusable buffers): one instance per worker thread.
public final class ONNXPlateDetector {
    /// How the model is fed and decoded.
    public let configuration: DetectorModelConfiguration
    /// The model file.
    public let path: String
    private let net: OpenCVNet
    private var blob: [Float]
    /// How many times the model has run (a speed figure that does not hang on the machine's load: `eval`).
    public private(set) var runs = 0

    /// Loads the model and checks, with one run on a blank input, that its output fits the configuration.
    /// A model that does not fit throws `ModelError.mismatch` naming the difference.
    public init(path: String, configuration: DetectorModelConfiguration) throws(ModelError) {
        if let problem = configuration.problem() { throw .mismatch(path, problem) }
        self.net = try OpenCVNet(path: path)
        self.path = path
        self.configuration = configuration
        self.blob = [Float](repeating: 0, count: 3 * configuration.inputWidth * configuration.inputHeight)
        let outputs: [Tensor]
        do {
            outputs = try blob.withUnsafeBufferPointer { input throws(ModelError) in try net.forward(input, shape: inputShape) }
        } catch {
            throw .mismatch(path, "it does not run on a 1x3x\(configuration.inputHeight)x\(configuration.inputWidth) input: \(error.message)")
        }
        guard let first = outputs.first else { throw .mismatch(path, "it has no output") }
        if let problem = DetectorOutputDecoder.shapeProblem(first.shape, configuration: configuration) {
            throw .mismatch(path, problem)
        }
    }

    private var inputShape: [Int] { [1, 3, configuration.inputHeight, configuration.inputWidth] }

    /// Plates in a BGR24 image with score ≥ `threshold`, after non-maximum suppression, best first.
    /// With `keepAllClasses` every class is kept (a vehicle model); otherwise only the classes whose label
    /// names a plate, when any does.
    public func detect(in image: Image, threshold: Double, nmsThreshold: Double = 0.45,
                       keepAllClasses: Bool = false) throws(ModelError) -> [PlateDetection] {
        precondition(image.format == .bgr24, "the detector takes BGR24 images")
        runs += 1
        let c = configuration
        var scale: Float = 1
        var padX: Int32 = 0, padY: Int32 = 0
        try blob.withUnsafeMutableBufferPointer { out throws(ModelError) in
            try checkNet { err, len in
                copencv_letterbox_blob(image.buffer.bytes.assumingMemoryBound(to: UInt8.self), Int32(image.width),
                                       Int32(image.height), Int32(image.stride), Int32(c.inputWidth), Int32(c.inputHeight),
                                       c.letterbox == "center" ? 1 : 0, Int32(c.padValue), c.channelOrder == "rgb" ? 1 : 0,
                                       c.scale, out.baseAddress, &scale, &padX, &padY, err, len)
            }
        }
        let outputs = try blob.withUnsafeBufferPointer { input throws(ModelError) in try net.forward(input, shape: inputShape) }
        let transform = LetterboxTransform(scale: Double(scale), padX: Double(padX), padY: Double(padY))
        let raw = DetectorOutputDecoder.decode(outputs[0], configuration: c, transform: transform,
                                               imageSize: ImageSize(width: image.width, height: image.height),
                                               threshold: threshold)
        let plateClasses = Set(c.labels.indices.filter { c.labels[$0].lowercased().contains("plate") })
        var candidates = plateClasses.isEmpty || keepAllClasses ? raw : raw.filter { plateClasses.contains($0.classIndex) }
        if let aspect = c.minimumAspect { candidates = candidates.filter { $0.box.width >= aspect * $0.box.height } }
        return try nonMaximumSuppression(candidates, threshold: nmsThreshold)
    }

    private func nonMaximumSuppression(_ detections: [PlateDetection], threshold: Double) throws(ModelError) -> [PlateDetection] {
        guard detections.count > 1 else { return detections }
        let boxes = detections.flatMap { [Float($0.box.xmin), Float($0.box.ymin), Float($0.box.width), Float($0.box.height)] }
        let scores = detections.map { Float($0.score) }
        var keep = [Int32](repeating: 0, count: detections.count)
        var count: Int32 = 0
        try checkNet { err, len in
            copencv_nms(boxes, scores, Int32(detections.count), 0, Float(threshold), &keep, &count, err, len)
        }
        return keep.prefix(Int(count)).map { detections[Int($0)] }.sorted { $0.score > $1.score }
    }
}

/// A plate reader: an ONNX model in one of `ReaderModelConfiguration.Format`'s layouts, run by OpenCV.
///
/// Not thread-safe: one instance per worker thread.
public final class ONNXPlateReader {
    /// How the model is fed and decoded.
    public let configuration: ReaderModelConfiguration
    /// The model file.
    public let path: String
    private let net: OpenCVNet
    /// How many crops the model has read (batched or not).
    public private(set) var runs = 0

    /// Loads the model and checks, with one run on a blank input, that its output fits the configuration.
    public init(path: String, configuration: ReaderModelConfiguration) throws(ModelError) {
        if let problem = configuration.problem() { throw .mismatch(path, problem) }
        self.net = try OpenCVNet(path: path)
        self.path = path
        self.configuration = configuration
        let blank = Image(width: configuration.inputWidth, height: configuration.inputHeight, format: .bgr24)
        memset(blank.buffer.bytes, 0, blank.buffer.count)
        let output: Tensor
        do {
            output = try runModel(on: [blank])[0]
        } catch {
            throw .mismatch(path, "it does not run on a \(configuration.inputWidth)x\(configuration.inputHeight) \(configuration.colorMode) input: \(error.message)")
        }
        if let problem = ReaderOutputDecoder.shapeProblem(output.shape, configuration: configuration) {
            throw .mismatch(path, problem)
        }
        // Several crops go through in one run when the model takes a batch: its first output dimension must be
        // the batch and each item must come out as it does alone (a model exported with a fixed batch of 1, or
        // time-major, reads its crops one run each instead; the reads are the same).
        if let pair = try? runModel(on: [blank, blank]), pair.count == 2,
           pair.allSatisfy({ $0.shape == output.shape && zip($0.values, output.values).allSatisfy { abs($0 - $1) < 1e-4 } }) {
            batchSize = Self.maximumBatch
        }
    }

    /// The most crops one run of the model reads.
    public static let maximumBatch = 16
    /// How many crops one run reads: `maximumBatch` when the model takes a batch, else 1.
    public private(set) var batchSize = 1

    /// Cuts the plate out of a BGR24 image at the reader's input size: through the corners when the
    /// detector gave plausible ones, else through the box; both grown by `margin` (a fraction of the size).
    public func crop(_ image: Image, box: BoundingBox, corners: Quad?, margin: Double = 0.06) throws(ModelError) -> Image {
        try crop(image, box: box, corners: corners, marginX: margin, marginY: margin)
    }

    /// The plate warped to the reader's input size, grown by `marginX` of its width on the left and right and
    /// `marginY` of its height above and below (negative values shrink it).
    public func crop(_ image: Image, box: BoundingBox, corners: Quad?, marginX: Double, marginY: Double) throws(ModelError) -> Image {
        let c = configuration
        var quad = Self.plateQuad(box: box, corners: corners).corners
        // Grow the quad about its centre along its own axes (left→right and top→bottom edges).
        let (tl, tr, br, bl) = (quad[0], quad[1], quad[2], quad[3])
        let ux = Point(x: ((tr.x - tl.x) + (br.x - bl.x)) / 2, y: ((tr.y - tl.y) + (br.y - bl.y)) / 2)
        let uy = Point(x: ((bl.x - tl.x) + (br.x - tr.x)) / 2, y: ((bl.y - tl.y) + (br.y - tr.y)) / 2)
        let signs: [(Double, Double)] = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        quad = zip(quad, signs).map { p, s in
            Point(x: p.x + s.0 * marginX * ux.x + s.1 * marginY * uy.x, y: p.y + s.0 * marginX * ux.y + s.1 * marginY * uy.y)
        }
        let out = Image(width: c.inputWidth, height: c.inputHeight, format: .bgr24)
        let flat = quad.flatMap { [Float($0.x), Float($0.y)] }
        try checkNet { err, len in
            copencv_warp_quad(image.buffer.bytes.assumingMemoryBound(to: UInt8.self), Int32(image.width), Int32(image.height),
                              Int32(image.stride), 3, flat, out.buffer.bytes.assumingMemoryBound(to: UInt8.self),
                              Int32(out.width), Int32(out.height), err, len)
        }
        return out
    }

    /// The plate's outline a crop follows: the detector's corners when they are plausible, else the box's.
    static func plateQuad(box: BoundingBox, corners: Quad?) -> Quad {
        if let q = corners, isPlausible(q, box: box) { return q }
        return Quad(topLeft: Point(x: box.xmin, y: box.ymin), topRight: Point(x: box.xmax, y: box.ymin),
                    bottomRight: Point(x: box.xmax, y: box.ymax), bottomLeft: Point(x: box.xmin, y: box.ymax))
    }

    /// Corners are used only when they form a convex quad that roughly agrees with the box.
    static func isPlausible(_ q: Quad, box: BoundingBox) -> Bool {
        let p = [q.topLeft, q.topRight, q.bottomRight, q.bottomLeft]
        var sign = 0.0
        for i in 0..<4 {
            let a = p[i], b = p[(i + 1) % 4], c = p[(i + 2) % 4]
            let cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x)
            if cross == 0 || (sign != 0 && (cross > 0) != (sign > 0)) { return false }
            sign = cross
        }
        let xs = p.map(\.x), ys = p.map(\.y)
        let hull = BoundingBox(xmin: xs.min()!, ymin: ys.min()!, xmax: xs.max()!, ymax: ys.max()!)
        return hull.iou(box) > 0.5
    }

    /// Per-character alternatives of the plate in `crop` (any size; resized to the input size).
    /// `allowed`: the characters the hinted regions' plates can hold (nil: the whole alphabet).
    public func read(_ crop: Image, allowed: Set<Character>? = nil) throws(ModelError) -> [CharacterAlternatives] {
        try read([crop], allowed: allowed, lengths: [])[0].greedy
    }

    /// The greedy reading, and (CTC readers only) the best reading of each length in `lengths` other than
    /// the greedy one's, from one run of the model.
    public func read(_ crop: Image, allowed: Set<Character>?, lengths: Set<Int>) throws(ModelError)
        -> (greedy: [CharacterAlternatives], fixed: [[CharacterAlternatives]]) {
        try read([crop], allowed: allowed, lengths: lengths)[0]
    }

    /// `read(_:allowed:lengths:)` for several crops, batched: `batchSize` crops per run of the model.
    public func read(_ crops: [Image], allowed: Set<Character>?, lengths: Set<Int>) throws(ModelError)
        -> [(greedy: [CharacterAlternatives], fixed: [[CharacterAlternatives]])] {
        var outputs: [Tensor] = []
        var start = 0
        while start < crops.count {
            let end = min(crops.count, start + batchSize)
            outputs += try runModel(on: Array(crops[start..<end]))
            start = end
        }
        return outputs.map { output in
            guard configuration.format == .ctc else { return (ReaderOutputDecoder.decode(output, configuration: configuration, allowed: allowed), []) }
            return ReaderOutputDecoder.decodeCTC(output, configuration: configuration, lengths: lengths, allowed: allowed)
        }
    }

    /// One run of the model on `crops` (one input of batch `crops.count`); one output per crop, each with a
    /// batch dimension of 1 as a single crop's output has.
    private func runModel(on crops: [Image]) throws(ModelError) -> [Tensor] {
        let c = configuration
        let w = c.inputWidth, h = c.inputHeight
        let channels = c.colorMode == "grey" ? 1 : 3
        let n = crops.count
        runs += n
        var pixels = [UInt8](repeating: 0, count: n * w * h * channels)      // NHWC
        for (i, crop) in crops.enumerated() {
            try pixels.withUnsafeMutableBufferPointer { buffer throws(ModelError) in
                try fill(buffer.baseAddress! + i * w * h * channels, from: crop)
            }
        }
        let outputs: [Tensor]
        switch c.format {
        case .slots:
            // fast-plate-ocr models take uint8 NHWC and normalise inside the graph.
            outputs = try pixels.withUnsafeBufferPointer { input throws(ModelError) in
                try net.forward(bytes: input, shape: [n, h, w, channels])
            }
        case .ctc:
            var planar = [Float](repeating: 0, count: pixels.count)        // NCHW
            let size = w * h * channels
            for k in 0..<n {
                for i in 0..<(w * h) {
                    for ch in 0..<channels { planar[k * size + ch * w * h + i] = Float(pixels[k * size + i * channels + ch]) * c.scale }
                }
            }
            outputs = try planar.withUnsafeBufferPointer { input throws(ModelError) in
                try net.forward(input, shape: [n, channels, h, w])
            }
        }
        guard let first = outputs.first else { throw .inference("the reader produced no output") }
        if n == 1 { return [first] }
        guard first.shape.first == n else { throw .inference("the reader's output \(first.shape) has no batch of \(n)") }
        let item = first.values.count / n
        return (0..<n).map { k in Tensor(shape: [1] + first.shape.dropFirst(), values: Array(first.values[(k * item)..<((k + 1) * item)])) }
    }

    /// The crop resized to the input size, in the model's colour mode, written HWC at `pixels`.
    private func fill(_ pixels: UnsafeMutablePointer<UInt8>, from crop: Image) throws(ModelError) {
        let c = configuration
        precondition(crop.format == .bgr24, "the reader takes BGR24 crops")
        let sized = try crop.resizedForModel(width: c.inputWidth, height: c.inputHeight)
        let w = c.inputWidth, h = c.inputHeight
        let channels = c.colorMode == "grey" ? 1 : 3
        let src = sized.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        for y in 0..<h {
            for x in 0..<w {
                let o = y * sized.stride + 3 * x, b = src[o], g = src[o + 1], r = src[o + 2]
                let d = (y * w + x) * channels
                switch c.colorMode {
                case "grey":
                    // ITU-R BT.601 luma, as cv::cvtColor(BGR2GRAY) computes it.
                    let luma: Int = Int(b) * 1868 + Int(g) * 9617 + Int(r) * 4899 + 8192
                    pixels[d] = UInt8(luma >> 14)
                case "rgb": pixels[d] = r; pixels[d + 1] = g; pixels[d + 2] = b
                default: pixels[d] = b; pixels[d + 1] = g; pixels[d + 2] = r
                }
            }
        }
    }
}

extension Image {
    /// This BGR24 picture at a model's input size (itself when it has that size already): `INTER_AREA` when it
    /// shrinks both ways, else `INTER_LINEAR` (`copencv_resize`).
    func resizedForModel(width: Int, height: Int) throws(ModelError) -> Image {
        guard self.width != width || self.height != height else { return self }
        let sized = Image(width: width, height: height, format: .bgr24)
        try checkNet { err, len in
            copencv_resize(buffer.bytes.assumingMemoryBound(to: UInt8.self), Int32(self.width), Int32(self.height),
                           Int32(stride), 3, sized.buffer.bytes.assumingMemoryBound(to: UInt8.self),
                           Int32(width), Int32(height), err, len)
        }
        return sized
    }
}
