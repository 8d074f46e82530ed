import Foundation
public import PlateCore

/// Finds and reads plates with ONNX models through OpenCV dnn: detect → rectify → read → region templates.
///
/// Thread-safe: each call borrows one of `workers` model sets (cv::dnn::Net is not thread-safe, so
/// every worker owns its own nets) and waits when all are busy.
public final class ONNXRecognizer: PlateRecognizer, @unchecked Sendable {
    final class Worker {
        let detector: ONNXPlateDetector
        let reader: ONNXPlateReader
        let vehicles: ONNXPlateDetector?
        let refiner: ONNXPlateDetector?
        /// The second look's own model (`RecognizerConfiguration.secondLookRefiner`), else the refiner.
        let secondLook: ONNXPlateDetector?
        let shaped: [ONNXPlateDetector]
        let look: PlateLookClassifier?
        init(detector: ONNXPlateDetector, reader: ONNXPlateReader, vehicles: ONNXPlateDetector?, refiner: ONNXPlateDetector?,
             secondLook: ONNXPlateDetector?, shaped: [ONNXPlateDetector], look: PlateLookClassifier?) {
            self.detector = detector
            self.secondLook = secondLook
            self.look = look
            self.shaped = shaped
            self.reader = reader
            self.vehicles = vehicles
            self.refiner = refiner
        }
    }

    let configuration: RecognizerConfiguration
    // Why a condition lock: workers are borrowed by whatever thread calls recognize (Dispatch workers,
    // HTTP handlers); the lock only guards the idle list, never a model run.
    private let idle = NSCondition()
    private var available: [Worker]
    let resolver = RegionResolver()
    /// Region weights of the shape prior's families.
    let shapeWeights: FamilyWeights
    /// The first pass's inputs: the main detector's, then the shaped detectors' in their order.
    public let firstPassSizing: FirstPassSizing?

    /// Loads every worker's models now, so a bad model fails at start-up, not at the first image.
    public init(configuration: RecognizerConfiguration) throws(ModelError) {
        self.configuration = configuration
        shapeWeights = FamilyWeights(families: configuration.shapePrior?.families.map(\.code) ?? [])
        firstPassSizing = FirstPassSizing(inputs: ([configuration.detector] + configuration.shapedDetectors).map {
            ImageSize(width: $0.configuration.inputWidth, height: $0.configuration.inputHeight)
        })
        var workers: [Worker] = []
        for _ in 0..<configuration.workers {
            var vehicles: ONNXPlateDetector?
            if let v = configuration.vehicleDetector {
                vehicles = try ONNXPlateDetector(path: v.path, configuration: v.configuration)
            }
            var refiner: ONNXPlateDetector?
            if let r = configuration.refiner {
                refiner = try ONNXPlateDetector(path: r.path, configuration: r.configuration)
            }
            var secondLook: ONNXPlateDetector?
            if let r = configuration.secondLookRefiner, refiner != nil {
                secondLook = try ONNXPlateDetector(path: r.path, configuration: r.configuration)
            }
            var look: PlateLookClassifier?
            if let l = configuration.look { look = try PlateLookClassifier(path: l.path, configuration: l.configuration) }
            let shaped = try configuration.shapedDetectors.map { s throws(ModelError) in try ONNXPlateDetector(path: s.path, configuration: s.configuration) }
            workers.append(Worker(
                detector: try ONNXPlateDetector(path: configuration.detector.path, configuration: configuration.detector.configuration),
                reader: try ONNXPlateReader(path: configuration.reader.path, configuration: configuration.reader.configuration),
                vehicles: vehicles, refiner: refiner, secondLook: secondLook, shaped: shaped, look: look))
        }
        self.available = workers
    }

    /// Model runs so far, over every worker: what a picture costs in model time, counted rather than timed.
    public struct ModelRuns: Sendable, Equatable {
        /// The first pass (the main and the shaped detectors: whole pictures, search windows aside, and tiles).
        public var firstPass = 0
        /// The second or close looks (the refiner model), and the first pass over search windows.
        public var looks = 0
        /// Crops read.
        public var reads = 0
        /// Of the looks, those the second look's own model ran (`RecognizerConfiguration.secondLookRefiner`).
        public var secondLookModel = 0
        public init(firstPass: Int = 0, looks: Int = 0, reads: Int = 0, secondLookModel: Int = 0) {
            self.firstPass = firstPass
            self.looks = looks
            self.reads = reads
            self.secondLookModel = secondLookModel
        }
    }

    /// The model runs of every worker so far; call it while no picture is being recognized (a worker on loan is
    /// not counted).
    public func modelRuns() -> ModelRuns {
        idle.lock()
        defer { idle.unlock() }
        return available.reduce(into: ModelRuns()) { total, worker in
            total.firstPass += worker.detector.runs + worker.shaped.reduce(0) { $0 + $1.runs }
            total.looks += (worker.refiner?.runs ?? 0) + (worker.secondLook?.runs ?? 0)
            total.secondLookModel += worker.secondLook?.runs ?? 0
            total.reads += worker.reader.runs
        }
    }

    private func withWorker<T>(_ body: (Worker) throws -> T) rethrows -> T {
        idle.lock()
        while available.isEmpty { idle.wait() }
        let worker = available.removeLast()
        idle.unlock()
        defer {
            idle.lock()
            available.append(worker)
            idle.signal()
            idle.unlock()
        }
        return try body(worker)
    }

    /// Recognizes the plates in a BGR24 image.
    public func recognize(_ image: Image, options: RecognitionOptions) throws -> RecognitionResult {
        try recognize(image, scaled: nil, options: options)
    }

    /// Recognizes the plates in a BGR24 image; the first pass looks at `scaled` instead of shrinking `image`
    /// when `scaled` is the size `firstPassSizing` gives for it (a decoder made it from the decoded planes).
    public func recognize(_ image: Image, scaled: Image?, options: RecognitionOptions) throws -> RecognitionResult {
        try withWorker { worker in
            let size = ImageSize(width: image.width, height: image.height)
            let t0 = DispatchTime.now()
            var detections: [PlateDetection]
            var confirmationThreshold = 0.0, floor = 0.0, firstPassScale = 1.0
            // `mode: fast` is Plate Recognizer's "one detection pass": no proposals, no second or close look.
            let twoPass = !options.cropped && configuration.refineDetections && options.mode != .fast
            if options.cropped {
                detections = [PlateDetection(box: BoundingBox(xmin: 0, ymin: 0, xmax: Double(image.width), ymax: Double(image.height)), score: 1)]
            } else {
                // The model's calibrated score is the floor of threshold_d (Plate Recognizer's 0.2 default means
                // nothing to our scores); redaction mode trades false positives for recall with half of it.
                let calibrated = worker.detector.configuration.scoreThreshold ?? 0
                let threshold = options.mode == .redaction ? max(options.detectionThreshold, calibrated) / 2
                    : max(options.detectionThreshold, calibrated)
                // With the second look, the first pass may propose fainter boxes (small, far plates score low at
                // 512 px): each below the model's floor must be confirmed by the second look, where the plate is
                // ~100 px wide and the score is trustworthy.
                let proposals = twoPass ? threshold * configuration.proposalFactor : threshold
                let first = firstPass(for: image, worker: worker)
                firstPassScale = FirstPassSizing.letterboxScale(width: image.width, height: image.height,
                                                                input: ImageSize(width: first.configuration.inputWidth, height: first.configuration.inputHeight))
                let found: [PlateDetection]
                let decoded = scaled.flatMap { scaled -> Image? in
                    guard let size = firstPassSizing?.scaledSize(width: image.width, height: image.height),
                          scaled.width == size.width, scaled.height == size.height else { return nil }
                    return scaled
                }
                if let windows = searchWindows(options.searchAreas, in: image, worker: worker, first: first, scale: firstPassScale) {
                    found = try detect(in: windows, of: image, scaled: decoded, worker: worker, threshold: proposals)
                } else if let scaled = decoded {
                    // The same pixels the letterbox would have made, from the decoder; boxes back to the picture's scale.
                    let sx = Double(image.width) / Double(scaled.width), sy = Double(image.height) / Double(scaled.height)
                    found = try first.detect(in: scaled, threshold: proposals).map { $0.scaledBy(sx: sx, sy: sy) }
                } else {
                    found = try first.detect(in: image, threshold: proposals)
                }
                let aspect = Self.windowAspect(of: Self.lookModel(worker, close: false))
                let faint = found.filter { $0.score < threshold && Self.refineWindow($0.box, in: image, aspect: aspect) != nil }
                    .sorted { $0.score > $1.score }.prefix(configuration.maxProposals)
                detections = found.filter { $0.score >= threshold } + faint
                floor = threshold
                confirmationThreshold = max(threshold, configuration.confirmationScore)
            }
            if twoPass {
                detections = Self.distinct(try detections.compactMap {
                    try refine($0, in: image, worker: worker, floor: floor, confirmAt: confirmationThreshold, firstPassScale: firstPassScale)
                })
            }
            // Reading time is summed apart: the search of an empty picture detects again after the first reads.
            var reading: UInt64 = 0
            func timedRead(_ d: [PlateDetection]) throws -> [PlateRead] {
                let start = DispatchTime.now().uptimeNanoseconds
                defer { reading += DispatchTime.now().uptimeNanoseconds - start }
                return try readPlates(d, in: image, worker: worker, options: options).compactMap { $0 }
            }
            var plates = try timedRead(detections)
            // A picture sent to be read almost always holds a plate: when the full-picture pass read none, the
            // plate is most often too far for it (20-30 px wide), and the tiles see it at ~1.75x.
            if plates.isEmpty, twoPass, options.searchWhenEmpty, let factor = configuration.tiledSearchScale,
               firstPassScale * factor <= 1 {
                let tried = detections
                let found = try tiledProposals(in: image, worker: worker, threshold: floor * configuration.proposalFactor, factor: factor)
                    .filter { p in !tried.contains { $0.box.iou(p.box) >= 0.3 } }
                    .prefix(configuration.maxTiledProposals)
                for proposal in found {
                    guard let confirmed = try refine(proposal, in: image, worker: worker, floor: .infinity,
                                                     confirmAt: confirmationThreshold, firstPassScale: firstPassScale * factor),
                          !plates.contains(where: { $0.box.iou(confirmed.box) >= 0.3 }) else { continue }
                    plates += try timedRead([confirmed])
                }
            }
            var vehicles: [VehicleDetection] = []
            if let model = worker.vehicles, !options.cropped {
                vehicles = try Self.vehicles(in: image, model: model, threshold: configuration.vehicleThreshold)
            }
            let total = DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds
            return RecognitionResult(imageSize: size, plates: plates, vehicles: vehicles,
                                     detectMilliseconds: Double(total - reading) / 1e6, readMilliseconds: Double(reading) / 1e6)
        }
    }

    /// The windows (picture pixels) that the first pass runs on instead of the whole picture: `SearchWindows` over the
    /// search areas, each the second-look model's input at the first pass's `scale`; nil (the whole picture) when
    /// there are no areas, no second-look model, or more windows would be needed than `maxSearchWindows` or than
    /// cost less than the whole pass.
    private func searchWindows(_ areas: [BoundingBox]?, in image: Image, worker: Worker, first: ONNXPlateDetector,
                               scale: Double) -> [SearchWindows.Window]? {
        guard let areas, !areas.isEmpty, let look = worker.refiner, scale > 0 else { return nil }
        let input = (w: look.configuration.inputWidth, h: look.configuration.inputHeight)
        let whole = Double(first.configuration.inputWidth * first.configuration.inputHeight)
        // Each window costs about its input's share of the whole pass; together they must cost clearly less.
        let affordable = min(configuration.maxSearchWindows, Int(0.8 * whole / Double(input.w * input.h)))
        guard affordable > 0 else { return nil }
        let size = (w: Int(Double(input.w) / scale), h: Int(Double(input.h) / scale))
        return SearchWindows.cover(areas, width: image.width, height: image.height, size: size, limit: affordable)
    }

    /// The first pass over `windows` of the picture (the second-look model, whose input each window fills at the
    /// first pass's scale): from the decoder's scaled picture when there is one (no resize at all), else from the
    /// full picture (the letterbox shrinks the window). Detections in picture pixels, one per plate.
    private func detect(in windows: [SearchWindows.Window], of image: Image, scaled: Image?, worker: Worker,
                        threshold: Double) throws -> [PlateDetection] {
        guard let look = worker.refiner else { return [] }
        var found: [PlateDetection] = []
        for (x0, y0, w, h) in windows {
            if let scaled {
                let sx = Double(scaled.width) / Double(image.width), sy = Double(scaled.height) / Double(image.height)
                let cw = min(scaled.width, look.configuration.inputWidth), ch = min(scaled.height, look.configuration.inputHeight)
                // Origins on the detector's coarsest grid (32 px): its cells then sit where the whole pass's sit, and a
                // plate well inside the window is boxed as the whole pass boxes it (other origins shift every anchor).
                func aligned(_ v: Double, _ limit: Int) -> Int { min(max(0, Int((v / 32).rounded()) * 32), limit) }
                let cx = aligned(Double(x0) * sx, scaled.width - cw), cy = aligned(Double(y0) * sy, scaled.height - ch)
                let window = scaled.copy(x: cx, y: cy, width: cw, height: ch)
                found += try look.detect(in: window, threshold: threshold).map {
                    $0.moved(dx: Double(cx), dy: Double(cy)).scaledBy(sx: 1 / sx, sy: 1 / sy)
                }
            } else {
                let window = image.copy(x: x0, y: y0, width: w, height: h)
                found += try look.detect(in: window, threshold: threshold).map { $0.moved(dx: Double(x0), dy: Double(y0)) }
            }
        }
        // Windows overlap: a plate in two of them is found twice.
        return Self.distinct(found)
    }

    /// The first pass again on overlapping tiles (`tiles(width:height:factor:)`: 2 x 2 at 1.75), each seen
    /// `factor` times larger than the whole picture was: its detections (image coordinates) at `threshold` or
    /// above, strongest first, a plate two tiles both found kept once.
    private func tiledProposals(in image: Image, worker: Worker, threshold: Double, factor: Double) throws -> [PlateDetection] {
        var found: [PlateDetection] = []
        for (x0, y0, w, h) in Self.tiles(width: image.width, height: image.height, factor: factor) {
            let tile = image.copy(x: x0, y: y0, width: w, height: h)
            let dx = Double(x0), dy = Double(y0)
            for d in try firstPass(for: tile, worker: worker).detect(in: tile, threshold: threshold) {
                let moved = d.moved(dx: dx, dy: dy)
                if let i = found.firstIndex(where: { $0.box.iou(moved.box) >= 0.3 }) {
                    if moved.score > found[i].score { found[i] = moved }
                } else {
                    found.append(moved)
                }
            }
        }
        return found.sorted { $0.score > $1.score }
    }

    /// Windows `factor` times smaller than the picture each way, n x n of them (n = ceil(factor), at least 2),
    /// spread evenly from edge to edge so that neighbours overlap.
    public static func tiles(width: Int, height: Int, factor: Double) -> [(x0: Int, y0: Int, w: Int, h: Int)] {
        let n = max(2, Int(factor.rounded(.up)))
        let w = min(width, Int((Double(width) / factor).rounded(.up))), h = min(height, Int((Double(height) / factor).rounded(.up)))
        func starts(_ size: Int, _ total: Int) -> [Int] { (0..<n).map { (total - size) * $0 / (n - 1) } }
        return starts(h, height).flatMap { y in starts(w, width).map { x in (x, y, w, h) } }
    }

    /// The first pass's detector: of the main one and the shaped ones, the smallest input that holds the picture
    /// at no less than 95 % of the main one's scale (or of the picture's own size, when the main one enlarges it).
    private func firstPass(for image: Image, worker: Worker) -> ONNXPlateDetector {
        let i = firstPassSizing?.input(width: image.width, height: image.height) ?? 0
        return i == 0 ? worker.detector : worker.shaped[i - 1]
    }

    /// The model of the second look at small plates and faint proposals (`close`: false) or of the close look at large ones.
    private static func lookModel(_ worker: Worker, close: Bool) -> ONNXPlateDetector {
        (close ? nil : worker.secondLook) ?? worker.refiner ?? worker.detector
    }

    /// A look's window shape: its model's input height over width.
    private static func windowAspect(of model: ONNXPlateDetector) -> Double {
        Double(model.configuration.inputHeight) / Double(model.configuration.inputWidth)
    }

    /// The window the second look at `box` uses (two plate widths, at least four heights), or nil when it would
    /// cover half the picture or more. `aspect`: the window's height over its width (the second-look model's input).
    static func refineWindow(_ box: BoundingBox, in image: Image, aspect: Double) -> (x0: Int, y0: Int, w: Int, h: Int)? {
        guard let w = window(around: box, side: max(box.width * 2, box.height * 4, 64), aspect: aspect, in: image),
              Double(w.w * w.h) < 0.5 * Double(image.width * image.height) else { return nil }
        return w
    }

    /// The windows the close look (`close`: its factor) or else the second look at `box` runs on: that look's own
    /// window, and a tighter one `tight` times the box's size when that is smaller; none when the look's own
    /// window would be under 16 px or (second look) cover half the picture.
    public static func lookWindows(_ box: BoundingBox, in image: Image, aspect: Double, close: Double?,
                                   tight: Double?) -> [(x0: Int, y0: Int, w: Int, h: Int)] {
        let own = close.map { closeWindow(box, in: image, aspect: aspect, factor: $0) } ?? refineWindow(box, in: image, aspect: aspect)
        guard let own else { return [] }
        guard let tight, let t = closeWindow(box, in: image, aspect: aspect, factor: tight), t.w < own.w else { return [own] }
        return [own, t]
    }

    /// One detection per plate: the looks may move two first-pass boxes (a plate and a faint proposal beside it, or
    /// a box that took in a lamp) onto the same plate, and a plate reported twice in one frame starts a second
    /// track whose one-sighting event then claims the plate (without a direction) before the real track ends.
    /// Of detections whose boxes overlap by IoU `overlap` or more the stronger stays (the earlier on a tie); the
    /// rest keep their order.
    public static func distinct(_ detections: [PlateDetection], overlap: Double = 0.5) -> [PlateDetection] {
        let strongestFirst = detections.indices.sorted { (detections[$0].score, -$0) > (detections[$1].score, -$1) }
        var kept: [Int] = []
        for i in strongestFirst where !kept.contains(where: { detections[$0].box.iou(detections[i].box) >= overlap }) {
            kept.append(i)
        }
        return kept.sorted().map { detections[$0] }
    }

    /// Of the looks' detections of the plate at `box` (overlapping it by IoU 0.3 or more, or lying mostly inside
    /// it as a plate inside a box three times too wide does; not a neighbour), the one the look is surest of.
    public static func strongest(_ found: [PlateDetection], of box: BoundingBox) -> PlateDetection? {
        found.filter { $0.box.iou(box) >= 0.3 || ($0.box.intersection(box)?.area ?? 0) >= 0.7 * $0.box.area }
            .max { $0.score < $1.score }
    }

    /// The close look's window at `box`: `factor` times the larger of its width and twice its height.
    public static func closeWindow(_ box: BoundingBox, in image: Image, aspect: Double, factor: Double) -> (x0: Int, y0: Int, w: Int, h: Int)? {
        window(around: box, side: max(box.width, box.height * 2, 32) * factor, aspect: aspect, in: image)
    }

    /// A `side` x `side * aspect` window centred on `box`, clipped to the picture; nil when under 16 px.
    private static func window(around box: BoundingBox, side: Double, aspect: Double, in image: Image) -> (x0: Int, y0: Int, w: Int, h: Int)? {
        let tall = side * aspect
        let x0 = max(0, Int((box.center.x - side / 2).rounded(.down))), y0 = max(0, Int((box.center.y - tall / 2).rounded(.down)))
        let x1 = min(image.width, Int((box.center.x + side / 2).rounded(.up))), y1 = min(image.height, Int((box.center.y + tall / 2).rounded(.up)))
        guard x1 - x0 >= 16, y1 - y0 >= 16 else { return nil }
        return (x0, y0, x1 - x0, y1 - y0)
    }

    /// The detection again, from the detector run on a window around it at full resolution (when the window
    /// is clearly smaller than the picture); the first pass's own detection when the second finds no match.
    /// A detection below `floor` (a faint proposal) is kept only when the second look finds it with at least
    /// `confirmAt`, and then carries the second look's score.
    private func refine(_ detection: PlateDetection, in image: Image, worker: Worker, floor: Double,
                        confirmAt: Double, firstPassScale: Double) throws -> PlateDetection? {
        let box = detection.box
        let proposal = detection.score < floor
        let close = !proposal && box.width * firstPassScale >= configuration.secondLookBelowWidth
        let second = Self.lookModel(worker, close: close)
        let aspect = Self.windowAspect(of: second)
        // A plate the first pass saw large is found; the close look only places it better.
        if close && configuration.closeLookWindow == nil { return detection }
        let windows = Self.lookWindows(box, in: image, aspect: aspect, close: close ? configuration.closeLookWindow : nil,
                                       tight: proposal ? nil : configuration.tightLookWindow)
        guard !windows.isEmpty else { return proposal ? nil : detection }
        var found: [PlateDetection] = []
        for (i, (x0, y0, w, h)) in windows.enumerated() {
            // The tighter window only when the look's own is not sure of the plate: each window costs a look.
            if i > 0, let sure = Self.strongest(found, of: box), sure.score >= configuration.tightLookBelowScore { break }
            let window = image.copy(x: x0, y: y0, width: w, height: h)
            found += try second.detect(in: window, threshold: 0.3).map { $0.moved(dx: Double(x0), dy: Double(y0)) }
        }
        guard let best = Self.strongest(found, of: box) else { return proposal ? nil : detection }
        if proposal {
            guard best.score >= confirmAt else { return nil }
            return PlateDetection(box: best.box, score: best.score, corners: best.corners ?? detection.corners,
                                  classIndex: detection.classIndex)
        }
        // The first pass's score says whether this is a plate; the second only places it better.
        var placed = PlateDetection(box: best.box, score: detection.score, corners: best.corners ?? detection.corners,
                              classIndex: detection.classIndex)
        placed.firstLook = PlateDetection.Placement(box: detection.box, corners: detection.corners)
        return placed
    }

    /// The vehicle model's detections of the classes that are vehicles (by label), each with a colour.
    static func vehicles(in image: Image, model: ONNXPlateDetector, threshold: Double) throws(ModelError) -> [VehicleDetection] {
        let labels = model.configuration.labels
        return try model.detect(in: image, threshold: threshold, keepAllClasses: true).compactMap { d in
            guard d.classIndex < labels.count, let type = VehicleType(label: labels[d.classIndex]) else { return nil }
            return VehicleDetection(type: type, score: (d.score * 1000).rounded() / 1000, box: d.box,
                                    color: [VehicleColor.estimate(image, box: d.box)])
        }
    }

}

extension PlateDetection {
    /// The detection moved by (dx, dy): from a window's coordinates to the picture's.
    func moved(dx: Double, dy: Double) -> PlateDetection {
        var m = self
        m.box = box.offsetBy(dx: dx, dy: dy)
        m.corners = corners?.offsetBy(dx: dx, dy: dy)
        return m
    }

    /// The detection scaled by (sx, sy): from a scaled copy's coordinates to the picture's.
    func scaledBy(sx: Double, sy: Double) -> PlateDetection {
        var m = self
        m.box = box.scaledBy(sx: sx, sy: sy)
        m.corners = corners?.scaledBy(sx: sx, sy: sy)
        return m
    }
}
