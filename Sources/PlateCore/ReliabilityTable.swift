/// How well read scores say how likely a read is right: reads grouped by score (0-0.1, ..., 0.9-1.0), each bin's
/// fraction of right reads against its mean score, the expected calibration error, and what a `threshold_o` would
/// keep and drop. A score is calibrated when, in every bin, the fraction right is about the mean score.
public struct ReliabilityTable: Sendable, Equatable {
    /// One labelled read: its score and whether its text was exactly right.
    public struct Sample: Sendable, Equatable {
        /// The read's score, 0...1.
        public var score: Double
        /// Whether the read's text equals the label.
        public var right: Bool
        /// A sample.
        public init(score: Double, right: Bool) {
            self.score = score
            self.right = right
        }
    }

    /// One score bin, `lower ..< upper` (the last bin includes 1).
    public struct Bin: Sendable, Equatable {
        /// Lowest score in the bin.
        public var lower: Double
        /// Upper end of the bin (exclusive, except for the last bin).
        public var upper: Double
        /// Reads in the bin.
        public var count: Int
        /// Right reads in the bin.
        public var right: Int
        /// Sum of the bin's scores (for the mean).
        public var scoreSum: Double

        /// Fraction of the bin's reads that are right; nil for an empty bin.
        public var fractionRight: Double? { count == 0 ? nil : Double(right) / Double(count) }
        /// Mean score of the bin's reads; nil for an empty bin.
        public var meanScore: Double? { count == 0 ? nil : scoreSum / Double(count) }
    }

    /// What a read threshold does to the reads: right and wrong ones kept (score at or above it) and dropped.
    public struct ThresholdOutcome: Sendable, Equatable {
        /// The threshold.
        public var threshold: Double
        /// Right reads scoring at or above the threshold.
        public var rightKept: Int
        /// Right reads scoring below it.
        public var rightDropped: Int
        /// Wrong reads scoring at or above it.
        public var wrongKept: Int
        /// Wrong reads scoring below it.
        public var wrongDropped: Int
    }

    /// Every sample added, in order.
    public private(set) var samples: [Sample] = []
    /// How many equal-width bins split 0...1.
    public let binCount: Int

    /// An empty table with `binCount` equal bins (at least 1).
    public init(binCount: Int = 10) {
        self.binCount = max(1, binCount)
    }

    /// Adds one read. Scores outside 0...1 (never produced, but a table must not crash on them) go to the end bins.
    public mutating func add(score: Double, right: Bool) {
        samples.append(Sample(score: score, right: right))
    }

    /// The bin a score falls in: `floor(score * binCount)`, with 1 (and anything above) in the last bin.
    public func binIndex(of score: Double) -> Int {
        guard score.isFinite else { return score > 0 ? binCount - 1 : 0 }
        return min(binCount - 1, max(0, Int((score * Double(binCount)).rounded(.down))))
    }

    /// The bins, lowest scores first; empty bins included.
    public var bins: [Bin] {
        var bins = (0..<binCount).map {
            Bin(lower: Double($0) / Double(binCount), upper: Double($0 + 1) / Double(binCount), count: 0, right: 0, scoreSum: 0)
        }
        for sample in samples {
            let i = binIndex(of: sample.score)
            bins[i].count += 1
            bins[i].right += sample.right ? 1 : 0
            bins[i].scoreSum += sample.score
        }
        return bins
    }

    /// Reads in the table.
    public var count: Int { samples.count }
    /// Right reads in the table.
    public var right: Int { samples.filter(\.right).count }

    /// Expected calibration error: the bins' |fraction right - mean score|, weighted by their share of the reads
    /// (0 for a perfectly calibrated score, and for an empty table).
    public var expectedCalibrationError: Double {
        guard !samples.isEmpty else { return 0 }
        let total = Double(samples.count)
        return bins.reduce(0) { sum, bin in
            guard let fraction = bin.fractionRight, let mean = bin.meanScore else { return sum }
            return sum + Double(bin.count) / total * abs(fraction - mean)
        }
    }

    /// What `threshold_o = threshold` does: a read is kept when its score is at or above the threshold.
    public func outcome(threshold: Double) -> ThresholdOutcome {
        var o = ThresholdOutcome(threshold: threshold, rightKept: 0, rightDropped: 0, wrongKept: 0, wrongDropped: 0)
        for sample in samples {
            switch (sample.right, sample.score >= threshold) {
            case (true, true): o.rightKept += 1
            case (true, false): o.rightDropped += 1
            case (false, true): o.wrongKept += 1
            case (false, false): o.wrongDropped += 1
            }
        }
        return o
    }

    /// The table as text: one line per bin (range, reads, right, fraction right, mean score), then the ECE and
    /// the threshold's outcome.
    public func report(threshold: Double = 0.6) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "    -" }
        var lines = ["score      reads  right  fraction  mean score"]
        for bin in bins {
            lines.append(String(format: "%.1f-%.1f  %6d %6d", bin.lower, bin.upper, bin.count, bin.right)
                         + "     \(f(bin.fractionRight))       \(f(bin.meanScore))")
        }
        let o = outcome(threshold: threshold)
        lines.append(String(format: "reads %d, right %d, expected calibration error %.3f", count, right, expectedCalibrationError))
        lines.append(String(format: "threshold_o %.2f: right reads kept %d, dropped %d; wrong reads kept %d, dropped %d",
                            threshold, o.rightKept, o.rightDropped, o.wrongKept, o.wrongDropped))
        return lines.joined(separator: "\n")
    }
}
