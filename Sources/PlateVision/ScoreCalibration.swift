public import Foundation
public import PlateCore

/// Turns the reader's raw score (the geometric mean of the characters' probabilities, after the crops' vote) into
/// the probability that the read is exactly right, which is what Plate Recognizer's `score` and `threshold_o` mean.
///
/// A monotone piecewise-linear map through knots (raw score, probability right), flat beyond the first and last
/// knot; fitted by isotonic regression on labelled synthetic plates and stored as data
/// (`Models/ocr/score-calibration.json`, rebuilt by `scripts/calibrate`). Three curves: hinted reads that fit a hinted
/// format (their raw score is the format's, `RegionResolver.formatScore`, higher than the plain product), hint-free
/// reads that fit some template, and reads that fit none (right less often at the same raw score).
public struct ScoreCalibration: Sendable, Equatable {
    /// One point of a curve.
    public struct Knot: Sendable, Equatable {
        /// The raw score.
        public var raw: Double
        /// The probability that a read with that raw score is right.
        public var probability: Double
        /// A knot.
        public init(raw: Double, probability: Double) {
            self.raw = raw
            self.probability = probability
        }
    }

    /// The curve for reads made with region hints that fit a hinted template.
    public let hinted: [Knot]
    /// The curve for reads made without hints that fit a template of some region.
    public let fitting: [Knot]
    /// The curve for reads that fit no template.
    public let free: [Knot]

    /// A calibration; each curve needs at least one knot, raw scores strictly rising, probabilities in 0...1 and
    /// never falling (a higher raw score never means a lower probability).
    /// `source` names the file in errors.
    public init(hinted: [Knot], fitting: [Knot], free: [Knot], source: String = "score calibration") throws(ModelError) {
        for (name, curve) in [("hinted", hinted), ("fitting", fitting), ("free", free)] {
            guard !curve.isEmpty else { throw ModelError.mismatch(source, "the \(name) curve has no knots") }
            for (a, b) in zip(curve, curve.dropFirst()) where !(a.raw < b.raw && a.probability <= b.probability) {
                throw ModelError.mismatch(source,
                    "the \(name) curve must rise (raw \(a.raw) -> \(b.raw), probability \(a.probability) -> \(b.probability))")
            }
            guard curve.allSatisfy({ (0...1).contains($0.probability) && $0.raw.isFinite }) else {
                throw ModelError.mismatch(source, "the \(name) curve has a probability outside 0...1")
            }
        }
        self.hinted = hinted
        self.fitting = fitting
        self.free = free
    }

    /// The probability that a read with raw score `score` is right; `hinted`: the read was made with region hints.
    public func probability(_ score: Double, matchesTemplate: Bool, hinted: Bool) -> Double {
        Self.interpolate(!matchesTemplate ? free : hinted ? self.hinted : fitting, at: score)
    }

    /// The read with its score and its candidates' scores calibrated (the first candidate is the read; the rest, whose
    /// fit is not known, by the free curve and never above the read); the order never changes.
    public func apply(to read: PlateRead, hinted: Bool) -> PlateRead {
        var out = read
        out.score = (probability(read.score, matchesTemplate: read.matchesTemplate, hinted: hinted) * 1000).rounded() / 1000
        out.candidates = read.candidates.enumerated().map { i, c in
            PlateCandidate(text: c.text, score: i == 0 ? out.score
                           : min(out.score, (probability(c.score, matchesTemplate: false, hinted: hinted) * 1000).rounded() / 1000),
                           characterScores: c.characterScores)
        }
        return out
    }

    static func interpolate(_ knots: [Knot], at x: Double) -> Double {
        guard let first = knots.first, let last = knots.last else { return x }
        if x <= first.raw { return first.probability }
        if x >= last.raw { return last.probability }
        let i = knots.firstIndex { $0.raw >= x }!
        let a = knots[i - 1], b = knots[i]
        return a.probability + (b.probability - a.probability) * (x - a.raw) / (b.raw - a.raw)
    }

    /// The calibration in a models folder laid out as the repository's `Models/` (`ocr/score-calibration.json`).
    public static func bundled(in modelsDirectory: String) throws(ModelError) -> ScoreCalibration {
        let path = (modelsDirectory as NSString).appendingPathComponent("ocr/score-calibration.json")
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.missing(path) }
        return try load(data, path: path)
    }

    /// Reads `score-calibration.json`: `{"hinted": [[raw, p], ...], "fitting": [...], "free": [...]}` (other keys,
    /// such as how it was made, are ignored).
    public static func load(_ data: Data, path: String) throws(ModelError) -> ScoreCalibration {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.mismatch(path, "not a JSON object")
        }
        func curve(_ key: String) throws(ModelError) -> [Knot] {
            guard let pairs = object[key] as? [[Double]], pairs.allSatisfy({ $0.count == 2 }) else {
                throw ModelError.mismatch(path, "\"\(key)\" must be a list of [raw, probability] pairs")
            }
            return pairs.map { Knot(raw: $0[0], probability: $0[1]) }
        }
        return try ScoreCalibration(hinted: curve("hinted"), fitting: curve("fitting"), free: curve("free"), source: path)
    }
}
