import Foundation

/// Counts things per wall-clock second over the last few seconds, for "frames per second" gauges.
///
/// Whole seconds only: the rate is the count in the last `span` completed seconds divided by `span`
/// (fewer seconds just after the start). Not thread-safe; lives inside the pipeline's locked state.
struct RateWindow {
    /// Completed seconds the rate is taken over.
    static let span = 5

    private var counts = [Int](repeating: 0, count: RateWindow.span + 1)
    private var seconds = [Int64](repeating: .min, count: RateWindow.span + 1)
    private var firstSecond: Int64?

    /// Counts one occurrence at `now`.
    mutating func add(at now: Date) {
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        if firstSecond == nil { firstSecond = second }
        let slot = Int(second.magnitude % UInt64(counts.count))
        if seconds[slot] != second {
            seconds[slot] = second
            counts[slot] = 0
        }
        counts[slot] += 1
    }

    /// Occurrences per second over the completed seconds before `now` (at most `span` of them).
    func rate(at now: Date) -> Double {
        guard let firstSecond else { return 0 }
        let current = Int64(now.timeIntervalSince1970.rounded(.down))
        let window = min(Int64(Self.span), current - firstSecond)
        guard window > 0 else { return 0 }
        var total = 0
        for (slot, second) in seconds.enumerated() where second >= current - window && second < current {
            total += counts[slot]
        }
        return Double(total) / Double(window)
    }
}
