public import PlateCore

/// Decides which decoded frames to deliver: every Nth frame, then at most `maxFPS` per second of media
/// time. Pure: the same frames in give the same decisions out.
///
/// The rate cap puts frames on a grid of `1 / maxFPS` slots anchored at the first kept frame and keeps
/// the first frame of each slot, so a 25 fps stream capped at 10 keeps exactly 10 per second on average
/// (frames 0, 3, 5, 8, 10, ...), rather than the 8.3 a "wait at least 0.1 s" rule would give.
public struct FrameSampler: Sendable, Equatable {
    /// Keep every Nth frame (1 keeps all).
    public let every: Int
    /// Most frames per second of media time; nil for no cap.
    public let maxFPS: Double?

    private var seen = 0
    private var anchor: MediaTime?
    private var lastSlot: Int64 = 0

    /// A sampler keeping every `every`th frame, at most `maxFPS` per second.
    public init(every: Int = 1, maxFPS: Double? = nil) {
        precondition(every >= 1, "sample interval must be at least 1")
        precondition(maxFPS.map { $0 > 0 && $0.isFinite } ?? true, "max_fps must be positive")
        self.every = every
        self.maxFPS = maxFPS
    }

    /// Whether to deliver the next decoded frame, which shows at `time`. `decided`, when given, is the decision a
    /// decoder that leaves unused frames undecoded already made for this frame (by its place in the stream, from
    /// its timestamp), and stands; otherwise every `every`th frame this sampler sees is kept.
    public mutating func keep(at time: MediaTime, decided: Bool? = nil) -> Bool {
        defer { seen += 1 }
        if let decided { return decided }
        guard seen % every == 0 else { return false }
        guard let maxFPS else { return true }
        // Why re-anchor when time goes backwards: a live source restarted its clock; start a new grid.
        guard let anchor, time >= anchor else {
            anchor = time
            lastSlot = 0
            return true
        }
        // The epsilon absorbs binary rounding of exact frame times (0.2 s * 5 = 0.9999...).
        let slot = Int64(((time.seconds - anchor.seconds) * maxFPS + 1e-6).rounded(.down))
        guard slot > lastSlot else { return false }
        lastSlot = slot
        return true
    }
}
