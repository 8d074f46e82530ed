import Foundation
public import PlateCore

/// Whether a camera's frame is worth recognizing: a pure state machine over small grey thumbnails
/// (`GreyThumbnail`), one per camera, fed every frame the sampler kept, in order.
///
/// Most frames of a gate or street camera hold no vehicle. The gate keeps a background (a running mean of
/// each cell) and calls a cell *changed* when it differs from the background by more than `threshold`
/// grey levels after the global light change is taken out (the median ratio of frame to background over all
/// cells, so a cloud, an exposure step or a slow dusk moves nothing). A frame is recognized when
/// - it is the first (or the picture changed size, or the clock went back): there is no background yet, and
///   the `hold` after it is recognized too;
/// - the tracker has a live track on this camera: a frame in which a track is alive is never skipped;
/// - enough cells changed (`minChangedFraction` of them, and at least `minChangedCells`): something is there
///   that the background does not hold, moving or newly stopped;
/// - something changed less than `hold` seconds ago: recognition runs a few frames behind decoding, so a
///   vehicle's first frames may not have made a track yet when the next frame is gated;
/// - nothing was recognized for `heartbeat` seconds: a safety net that costs one frame in a few seconds.
/// Otherwise it is skipped.
///
/// The background learns fast where nothing changed (`learningRate`: drift, shadows, compression noise) and
/// slowly where something did (`foregroundRate`). Changed cells that have held still for `absorbStill` seconds
/// are taken into the background at once when nothing else in the picture moves: a vehicle that parked after
/// its track ended, or the road left bare by a vehicle that was in the first frame (a "ghost"), would otherwise
/// keep the camera busy. (While something moves they wait: the flat roof of a slow vehicle holds still too, and
/// absorbing it would leave a ghost behind it.)
public struct MotionGate: Sendable {
    /// The gate's settings; the defaults are for 160-cell-wide thumbnails of fixed traffic cameras.
    public struct Settings: Sendable, Hashable {
        /// Grey levels a cell must differ from the background by (after the light change) to count as changed.
        public var threshold: Double = 18
        /// Share of the cells that must change for the frame to be recognized.
        public var minChangedFraction: Double = 0.001
        /// Fewest changed cells that count, whatever the share (a tiny thumbnail).
        public var minChangedCells: Int = 4
        /// Seconds after the last change during which frames are still recognized.
        public var hold: Double = 1.0
        /// Longest run of skipped frames, in seconds, before one is recognized anyway.
        public var heartbeat: Double = 4.0
        /// How fast unchanged cells follow the picture (per frame).
        public var learningRate: Double = 0.1
        /// How fast changed cells are absorbed into the background (per frame).
        public var foregroundRate: Double = 0.004
        /// Seconds a changed cell must hold still (within `threshold` of itself) to become background.
        public var absorbStill: Double = 3.0
        /// Thumbnail width to aim for, in cells: the cell is the picture width over this (at least 1 pixel).
        public var cellsAcross: Int = 160

        /// The defaults.
        public init() {}

        /// The thumbnail cell size, in pixels, for a picture `width` pixels wide.
        public func cell(forWidth width: Int) -> Int { max(1, width / max(1, cellsAcross)) }
    }

    /// A rectangle of thumbnail cells.
    public struct CellRect: Hashable, Sendable {
        /// Left column, top row, and size, in cells.
        public var x, y, width, height: Int
        /// The rectangle.
        public init(x: Int, y: Int, width: Int, height: Int) {
            (self.x, self.y, self.width, self.height) = (x, y, width, height)
        }
    }

    /// Why a frame is recognized, or that it is not.
    public enum Decision: Hashable, Sendable {
        /// Recognize the frame, for this reason.
        case recognize(Reason)
        /// Skip it: nothing changed and no track is alive.
        case skip

        /// Whether the frame goes to recognition.
        public var recognizes: Bool { self != .skip }
    }

    /// Why a frame is recognized.
    public enum Reason: String, Hashable, Sendable {
        /// No background yet (first frame, new picture size, clock restarted).
        case start
        /// The camera's tracker has a live track.
        case track
        /// Enough cells differ from the background.
        case change
        /// Something changed within `hold` seconds.
        case hold
        /// Nothing was recognized for `heartbeat` seconds.
        case heartbeat
    }

    /// The settings.
    public let settings: Settings
    private var background: [Double] = []
    /// Each cell's value in the previous frame, and since when it has held still.
    private var previous: [UInt8] = []
    private var stillSince: [Double] = []
    /// When each cell last counted as changed (moving, or newly stopped and not yet absorbed).
    private var changedAt: [Double] = []
    private var size: (width: Int, height: Int) = (0, 0)
    private var lastTime: Double?
    private var lastChange = -Double.infinity
    private var lastRecognized = -Double.infinity
    /// Share of cells that changed in the last frame (0...1), for logs and tests.
    public private(set) var changedFraction = 0.0

    /// A gate with `settings`.
    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Takes the next frame's thumbnail, shown at `time`, and the number of tracks alive on the camera now;
    /// says whether to recognize the frame, and learns the frame into the background.
    public mutating func handle(_ thumbnail: GreyThumbnail, at time: MediaTime, liveTracks: Int) -> Decision {
        let now = time.seconds
        let restarted = lastTime.map { now < $0 } ?? false
        lastTime = now
        guard !background.isEmpty, size == (thumbnail.width, thumbnail.height), !restarted else {
            background = thumbnail.values.map(Double.init)
            previous = thumbnail.values
            stillSince = Array(repeating: now, count: thumbnail.values.count)
            changedAt = Array(repeating: -Double.infinity, count: thumbnail.values.count)
            size = (thumbnail.width, thumbnail.height)
            // Nothing is known yet, and the tracker is a few frames behind: the first `hold` counts as changed.
            lastChange = now
            changedFraction = 0
            return recognized(.start, at: now)
        }
        let needed = max(settings.minChangedCells, Int((settings.minChangedFraction * Double(thumbnail.values.count)).rounded(.up)))
        let changed = learn(thumbnail, at: now, moving: needed)
        changedFraction = Double(changed) / Double(thumbnail.values.count)
        let enough = changed >= needed
        if enough { lastChange = now }
        if liveTracks > 0 { return recognized(.track, at: now) }
        if enough { return recognized(.change, at: now) }
        if now - lastChange < settings.hold { return recognized(.hold, at: now) }
        if now - lastRecognized >= settings.heartbeat { return recognized(.heartbeat, at: now) }
        return .skip
    }

    /// Where the picture changed in the last `hold` seconds up to the last frame, as rectangles of thumbnail cells
    /// (x, y, width, height in cells): the changed cells grouped into blocks of `block` x `block` cells, each group of
    /// touching blocks (8-neighbours) one rectangle, groups of fewer than `minChangedCells` changed cells left out
    /// (compression noise), each grown by one block on every side and clipped to the thumbnail. Nil before the
    /// first frame. The pipeline turns them into the recognizer's search areas (`RecognitionOptions.searchAreas`).
    public func changedAreas(block: Int = 8) -> [CellRect]? {
        guard let now = lastTime, !changedAt.isEmpty else { return nil }
        let (w, h) = size, b = max(1, block)
        let bw = (w + b - 1) / b, bh = (h + b - 1) / b
        var counts = [Int](repeating: 0, count: bw * bh)
        for y in 0..<h {
            for x in 0..<w where now - changedAt[y * w + x] < settings.hold { counts[(y / b) * bw + x / b] += 1 }
        }
        var seen = [Bool](repeating: false, count: counts.count)
        var areas: [CellRect] = []
        for start in counts.indices where counts[start] > 0 && !seen[start] {
            // One group of touching blocks, by flood fill.
            var stack = [start], cells = 0
            var (x0, y0, x1, y1) = (Int.max, Int.max, Int.min, Int.min)
            seen[start] = true
            while let i = stack.popLast() {
                let (bx, by) = (i % bw, i / bw)
                cells += counts[i]
                (x0, y0, x1, y1) = (min(x0, bx), min(y0, by), max(x1, bx), max(y1, by))
                for ny in max(0, by - 1)...min(bh - 1, by + 1) {
                    for nx in max(0, bx - 1)...min(bw - 1, bx + 1) where counts[ny * bw + nx] > 0 && !seen[ny * bw + nx] {
                        seen[ny * bw + nx] = true
                        stack.append(ny * bw + nx)
                    }
                }
            }
            guard cells >= settings.minChangedCells else { continue }
            let left = max(0, (x0 - 1) * b), top = max(0, (y0 - 1) * b)
            let right = min(w, (x1 + 2) * b), bottom = min(h, (y1 + 2) * b)
            areas.append(CellRect(x: left, y: top, width: right - left, height: bottom - top))
        }
        return areas
    }

    private mutating func recognized(_ reason: Reason, at now: Double) -> Decision {
        lastRecognized = now
        return .recognize(reason)
    }

    /// Compares the thumbnail with the background (light change taken out), updates the background and
    /// returns how many cells changed. Still changed cells are absorbed when fewer than `moving` changed cells move.
    private mutating func learn(_ thumbnail: GreyThumbnail, at now: Double, moving: Int) -> Int {
        let gain = Self.lightGain(thumbnail.values, background)
        var changed = 0
        var still: [Int] = [], moved: [Int] = []
        for i in background.indices {
            let value = Double(thumbnail.values[i])
            if abs(value - Double(previous[i])) > settings.threshold { stillSince[i] = now }
            previous[i] = thumbnail.values[i]
            // The background follows the light change at once (it is the light, not a vehicle), then learns.
            let expected = gain * background[i]
            guard abs(value - expected) > settings.threshold else {
                background[i] = expected + settings.learningRate * (value - expected)
                continue
            }
            background[i] = expected + settings.foregroundRate * (value - expected)
            if now - stillSince[i] >= settings.absorbStill { still.append(i) } else { moved.append(i) }
        }
        changed = moved.count
        for i in moved { changedAt[i] = now }
        guard changed < moving else {
            for i in still { changedAt[i] = now }
            return changed + still.count
        }
        for i in still { background[i] = Double(thumbnail.values[i]) }
        return changed
    }

    /// The global light change from `background` to `values`: the median of the per-cell ratios (on a log
    /// scale in 1 % steps), so that vehicles covering under half the picture do not move it.
    static func lightGain(_ values: [UInt8], _ background: [Double]) -> Double {
        // Bins of log-ratio from 1/4 to 4, in steps of ln(1.01).
        let step = 0.00995, half = 140
        var histogram = [Int](repeating: 0, count: 2 * half + 1)
        for i in background.indices {
            // +8 keeps black cells from making huge ratios out of noise.
            let ratio = (Double(values[i]) + 8) / (background[i] + 8)
            let bin = Int((log(ratio) / step).rounded()) + half
            histogram[min(max(bin, 0), 2 * half)] += 1
        }
        var seen = 0
        for (bin, count) in histogram.enumerated() {
            seen += count
            if 2 * seen >= background.count { return exp(Double(bin - half) * step) }
        }
        return 1
    }
}
