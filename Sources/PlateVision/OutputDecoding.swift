import Foundation
public import PlateCore

/// A plate (or object) box found by a detector, in the coordinates of the original image.
public struct PlateDetection: Sendable, Equatable {
    /// Axis-aligned box.
    public var box: BoundingBox
    /// Detection confidence, 0...1.
    public var score: Double
    /// Corners (top-left, top-right, bottom-right, bottom-left as read on the plate), when the model gives them.
    public var corners: Quad?
    /// Class index in the model's labels.
    public var classIndex: Int
    /// Where the first pass put the plate, when a later look placed it anew.
    public var firstLook: Placement?

    /// A box and its corners.
    public struct Placement: Sendable, Equatable {
        /// Axis-aligned box.
        public var box: BoundingBox
        /// Corners, when the model gives them.
        public var corners: Quad?
    }

    /// Creates a detection.
    public init(box: BoundingBox, score: Double, corners: Quad? = nil, classIndex: Int = 0) {
        self.box = box
        self.score = score
        self.corners = corners
        self.classIndex = classIndex
    }
}

/// Where a letterboxed model input sits in the original image: input = original * scale + pad.
public struct LetterboxTransform: Sendable, Equatable {
    /// Resize factor from the original image to the model input.
    public var scale: Double
    /// Left padding in input pixels.
    public var padX: Double
    /// Top padding in input pixels.
    public var padY: Double
    /// Creates a transform.
    public init(scale: Double, padX: Double, padY: Double) {
        self.scale = scale
        self.padX = padX
        self.padY = padY
    }
    /// Maps a point from model-input pixels back to the original image.
    public func original(x: Double, y: Double) -> Point { Point(x: (x - padX) / scale, y: (y - padY) / scale) }
}

/// Turns detector output tensors into detections (before NMS); pure, so it is tested without a model.
public enum DetectorOutputDecoder {
    /// Checks that an output shape fits the configured format; returns the mismatch in words, or nil.
    public static func shapeProblem(_ shape: [Int], configuration c: DetectorModelConfiguration) -> String? {
        let k = 4 + c.labels.count
        switch c.format {
        case .platestream:
            return shape.count == 3 && shape[0] == 1 && shape[2] == 13 ? nil
                : "output is \(shape); the platestream format gives [1, N, 13]"
        case .yolov8:
            return shape.count == 3 && shape[0] == 1 && (shape[1] == k || shape[2] == k) ? nil
                : "output is \(shape); a YOLOv8 model with \(c.labels.count) label(s) gives [1, \(k), N] or [1, N, \(k)]"
        case .yoloEndToEnd:
            return shape.count == 3 && shape[0] == 1 && shape[2] == 6 ? nil
                : "output is \(shape); an end-to-end YOLO model gives [1, N, 6] (x1, y1, x2, y2, score, class)"
        }
    }

    /// Decodes every row whose score reaches `threshold`, mapping boxes back through `transform` and
    /// clipping them to the image.
    public static func decode(_ output: Tensor, configuration c: DetectorModelConfiguration, transform t: LetterboxTransform,
                              imageSize: ImageSize, threshold: Double) -> [PlateDetection] {
        let v = output.values
        let clip = { (b: BoundingBox) -> BoundingBox in
            BoundingBox(xmin: max(0, b.xmin), ymin: max(0, b.ymin),
                        xmax: min(Double(imageSize.width), b.xmax), ymax: min(Double(imageSize.height), b.ymax))
        }
        func box(cx: Float, cy: Float, w: Float, h: Float) -> BoundingBox {
            let p0 = t.original(x: Double(cx - w / 2), y: Double(cy - h / 2))
            let p1 = t.original(x: Double(cx + w / 2), y: Double(cy + h / 2))
            return clip(BoundingBox(xmin: p0.x, ymin: p0.y, xmax: p1.x, ymax: p1.y))
        }
        var out: [PlateDetection] = []
        switch c.format {
        case .platestream:
            let n = output.shape[1]
            for i in 0..<n {
                let r = i * 13
                let score = Double(v[r + 4])
                guard score >= threshold else { continue }
                let corners = (0..<4).map { k in t.original(x: Double(v[r + 5 + 2 * k]), y: Double(v[r + 6 + 2 * k])) }
                out.append(PlateDetection(box: box(cx: v[r], cy: v[r + 1], w: v[r + 2], h: v[r + 3]), score: score,
                                          corners: Quad(topLeft: corners[0], topRight: corners[1],
                                                        bottomRight: corners[2], bottomLeft: corners[3])))
            }
        case .yolov8:
            let k = 4 + c.labels.count
            let channelsFirst = output.shape[1] == k
            let n = channelsFirst ? output.shape[2] : output.shape[1]
            let at = { (i: Int, j: Int) -> Float in channelsFirst ? v[j * n + i] : v[i * k + j] }
            for i in 0..<n {
                var best = 0, bestScore: Float = -1
                for j in 0..<c.labels.count where at(i, 4 + j) > bestScore { bestScore = at(i, 4 + j); best = j }
                guard Double(bestScore) >= threshold else { continue }
                out.append(PlateDetection(box: box(cx: at(i, 0), cy: at(i, 1), w: at(i, 2), h: at(i, 3)),
                                          score: Double(bestScore), classIndex: best))
            }
        case .yoloEndToEnd:
            for i in 0..<output.shape[1] {
                let r = i * 6
                guard Double(v[r + 4]) >= threshold else { continue }
                let p0 = t.original(x: Double(v[r]), y: Double(v[r + 1])), p1 = t.original(x: Double(v[r + 2]), y: Double(v[r + 3]))
                out.append(PlateDetection(box: clip(BoundingBox(xmin: p0.x, ymin: p0.y, xmax: p1.x, ymax: p1.y)),
                                          score: Double(v[r + 4]), classIndex: max(0, Int(v[r + 5].rounded()))))
            }
        }
        return out.filter { $0.box.width >= 1 && $0.box.height >= 1 }
    }
}

/// Turns reader output tensors into per-character alternatives; pure, so it is tested without a model.
public enum ReaderOutputDecoder {
    /// Checks that an output shape fits the configured format; returns the mismatch in words, or nil.
    public static func shapeProblem(_ shape: [Int], configuration c: ReaderModelConfiguration) -> String? {
        switch c.format {
        case .ctc:
            let classes = c.alphabet.count + 1
            return shape.count == 3 && (shape[0] == 1 || shape[1] == 1) && shape[2] == classes ? nil
                : "output is \(shape); a CTC reader with a \(c.alphabet.count)-character alphabet gives [1, T, \(classes)]"
        case .slots:
            let slots = c.slots ?? 0, a = c.alphabet.count
            let ok = (shape.count == 2 && shape[0] == 1 && shape[1] == slots * a)
                || (shape.count == 3 && shape[0] == 1 && shape[1] == slots && shape[2] == a)
            return ok ? nil : "output is \(shape); a slot reader with \(slots) slots and a \(a)-character alphabet gives [1, \(slots * a)] or [1, \(slots), \(a)]"
        }
    }

    /// Per-character alternatives of the text the output spells, in reading order.
    /// With `allowed`, characters outside it are taken out before decoding (CTC: their probability at every
    /// step goes to zero and the rest is renormalized, so a step that wanted a disallowed character may
    /// become blank instead of inventing a substitute).
    public static func decode(_ output: Tensor, configuration c: ReaderModelConfiguration,
                              alternatives: Int = 8, allowed: Set<Character>? = nil) -> [CharacterAlternatives] {
        let alphabet = Array(c.alphabet)
        switch c.format {
        case .ctc:
            return decode(rows: ctcRows(output, configuration: c, allowed: allowed), configuration: c, alphabet: alphabet,
                          alternatives: alternatives)
        case .slots:
            let a = alphabet.count, slots = c.slots ?? output.values.count / a
            let pad = c.padChar.flatMap(\.first)
            var result: [CharacterAlternatives] = []
            for s in 0..<slots {
                let row = probabilities(Array(output.values[(s * a)..<((s + 1) * a)]))
                var choices = row.enumerated().map { (character: alphabet[$0.offset], probability: $0.element) }
                if let allowed { choices = choices.filter { allowed.contains($0.character) || $0.character == pad } }
                choices.sort { $0.probability > $1.probability }
                if choices[0].character == pad { continue }                // an empty slot
                result.append(CharacterAlternatives(Array(choices.prefix(alternatives).filter { $0.character != pad })))
            }
            return result
        }
    }

    /// The greedy reading and the best reading of each of `lengths` (other than the greedy one's) of one CTC output, from
    /// one pass over its steps (masked to `allowed`) shared by all of them.
    public static func decodeCTC(_ output: Tensor, configuration c: ReaderModelConfiguration, lengths: Set<Int>,
                                 alternatives: Int = 8, allowed: Set<Character>? = nil)
        -> (greedy: [CharacterAlternatives], fixed: [[CharacterAlternatives]]) {
        let alphabet = Array(c.alphabet)
        let rows = ctcRows(output, configuration: c, allowed: allowed)
        let greedy = decode(rows: rows, configuration: c, alphabet: alphabet, alternatives: alternatives)
        let fixed = lengths.sorted().filter { $0 != greedy.count }.compactMap {
            decodeCTC(rows: rows, configuration: c, alphabet: alphabet, length: $0, alternatives: alternatives)
        }
        return (greedy, fixed)
    }

    /// The `count` likeliest characters of a CTC step (blank left out), most likely first; equal probabilities keep the
    /// alphabet's order (as a stable sort of the whole row would).
    static func topChoices(_ row: [Float], blank: Int, alphabet: [Character], count: Int) -> [(character: Character, probability: Float)] {
        var top: [Int] = []
        top.reserveCapacity(count + 1)
        for k in row.indices where k != blank {
            let p = row[k]
            if top.count == count, let last = top.last, row[last] >= p { continue }
            // After every kept step at least as likely: ties stay in row order.
            var at = top.count
            while at > 0 && row[top[at - 1]] < p { at -= 1 }
            top.insert(k, at: at)
            if top.count > count { top.removeLast() }
        }
        return top.map { k in (alphabet[k < blank ? k : k - 1], row[k]) }
    }

    /// Greedy decoding of `ctcRows`.
    static func decode(rows: [[Float]], configuration c: ReaderModelConfiguration, alphabet: [Character], alternatives: Int) -> [CharacterAlternatives] {
        let classes = alphabet.count + 1
        // Greedy path; a character is a run of equal non-blank argmaxes; its distribution is taken
        // at the step where that character peaks.
        var result: [CharacterAlternatives] = []
        var previous = c.blank
        var peak: (step: Int, p: Float)? = nil
        func close() {
            guard let pk = peak else { return }
            // Raw probabilities at the peak (blank left out): the first is the character's confidence.
            result.append(CharacterAlternatives(topChoices(rows[pk.step], blank: c.blank, alphabet: alphabet, count: alternatives)))
            peak = nil
        }
        for (t, row) in rows.enumerated() {
            var best = 0
            for k in 1..<classes where row[k] > row[best] { best = k }
            if best == c.blank {
                close()
            } else if best != previous {
                close()
                peak = (t, row[best])
            } else if let pk = peak, row[best] > pk.p {
                peak = (t, row[best])
            }
            previous = best
        }
        close()
        return result
    }

    /// The per-step probabilities of a CTC output, with characters outside `allowed` taken out and the rest
    /// renormalized.
    static func ctcRows(_ output: Tensor, configuration c: ReaderModelConfiguration, allowed: Set<Character>?) -> [[Float]] {
        let alphabet = Array(c.alphabet)
        let classes = alphabet.count + 1
        let steps = output.values.count / classes
        var rows = (0..<steps).map { probabilities(Array(output.values[($0 * classes)..<(($0 + 1) * classes)])) }
        if let allowed {
            let keep = (0..<classes).map { k in k == c.blank || allowed.contains(alphabet[k < c.blank ? k : k - 1]) }
            rows = rows.map { row in
                var masked = row
                for k in 0..<classes where !keep[k] { masked[k] = 0 }
                let sum = masked.reduce(0, +)
                return sum > 0 ? masked.map { $0 / sum } : masked
            }
        }
        return rows
    }

    /// The most likely reading of a CTC output that has exactly `length` characters (nil when none can): a
    /// Viterbi pass over the steps in which each step is blank or its likeliest character, and a character
    /// starts wherever the step before was blank or another character. Greedy decoding may drop a faint
    /// character that the step's blank outweighs; when the format says how many characters there are, this
    /// finds the best reading of that length instead. Alternatives are taken at each character's peak step.
    public static func decodeCTC(_ output: Tensor, configuration c: ReaderModelConfiguration, length: Int,
                                 alternatives: Int = 8, allowed: Set<Character>? = nil) -> [CharacterAlternatives]? {
        guard c.format == .ctc, length > 0 else { return nil }
        let alphabet = Array(c.alphabet)
        return decodeCTC(rows: ctcRows(output, configuration: c, allowed: allowed), configuration: c, alphabet: alphabet,
                         length: length, alternatives: alternatives)
    }

    /// `decodeCTC(_:configuration:length:alternatives:allowed:)` from the output's `ctcRows`.
    static func decodeCTC(rows: [[Float]], configuration c: ReaderModelConfiguration, alphabet: [Character], length: Int,
                          alternatives: Int) -> [CharacterAlternatives]? {
        guard length > 0 else { return nil }
        let steps = rows.count, classes = alphabet.count + 1
        guard steps >= length else { return nil }
        var label = [Int](repeating: 0, count: steps)
        var logChar = [Double](repeating: -.infinity, count: steps), logBlank = [Double](repeating: -.infinity, count: steps)
        for t in 0..<steps {
            var best = -1
            for k in 0..<classes where k != c.blank && (best < 0 || rows[t][k] > rows[t][best]) { best = k }
            label[t] = best
            logChar[t] = log(Double(max(rows[t][best], 1e-12)))
            logBlank[t] = log(Double(max(rows[t][c.blank], 1e-12)))
        }
        // score[t][k][s]: best log-probability of steps 0...t with k characters begun, step t blank (s 0) or a
        // character (s 1); `from` keeps (k, s) of step t - 1 for the way back.
        let width = length + 1
        var score = [Double](repeating: -.infinity, count: steps * width * 2)
        var from = [Int](repeating: -1, count: steps * width * 2)
        func at(_ t: Int, _ k: Int, _ s: Int) -> Int { (t * width + k) * 2 + s }
        score[at(0, 0, 0)] = logBlank[0]
        if length >= 1 { score[at(0, 1, 1)] = logChar[0] }
        for t in 1..<steps {
            for k in 0...length {
                let stayBlank = max(score[at(t - 1, k, 0)], score[at(t - 1, k, 1)])
                if stayBlank > -.infinity {
                    score[at(t, k, 0)] = stayBlank + logBlank[t]
                    from[at(t, k, 0)] = score[at(t - 1, k, 0)] >= score[at(t - 1, k, 1)] ? k * 2 : k * 2 + 1
                }
                var bestPrevious = -Double.infinity, bestFrom = -1
                if label[t] == label[t - 1], score[at(t - 1, k, 1)] > bestPrevious {      // the same character goes on
                    bestPrevious = score[at(t - 1, k, 1)]; bestFrom = k * 2 + 1
                }
                if k >= 1 {
                    if score[at(t - 1, k - 1, 0)] > bestPrevious { bestPrevious = score[at(t - 1, k - 1, 0)]; bestFrom = (k - 1) * 2 }
                    if label[t] != label[t - 1], score[at(t - 1, k - 1, 1)] > bestPrevious {
                        bestPrevious = score[at(t - 1, k - 1, 1)]; bestFrom = (k - 1) * 2 + 1
                    }
                }
                if bestPrevious > -.infinity {
                    score[at(t, k, 1)] = bestPrevious + logChar[t]
                    from[at(t, k, 1)] = bestFrom
                }
            }
        }
        var state = score[at(steps - 1, length, 0)] >= score[at(steps - 1, length, 1)] ? length * 2 : length * 2 + 1
        guard score[at(steps - 1, state / 2, state % 2)] > -.infinity else { return nil }
        // Back from the last step: each character is the run of steps spent in it; keep its peak step.
        var peaks = [Int](repeating: -1, count: length + 1)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let k = state / 2
            if state % 2 == 1, peaks[k] < 0 || rows[t][label[t]] > rows[peaks[k]][label[peaks[k]]] { peaks[k] = t }
            if t > 0 { state = from[at(t, k, state % 2)] }
        }
        return (1...length).map { k in
            CharacterAlternatives(topChoices(rows[peaks[k]], blank: c.blank, alphabet: alphabet, count: alternatives))
        }
    }

    /// The row itself when it already holds probabilities, else its softmax.
    static func probabilities(_ row: [Float]) -> [Float] {
        let sum = row.reduce(0, +)
        if row.allSatisfy({ $0 >= 0 && $0 <= 1 }) && abs(sum - 1) < 0.05 { return row }
        let m = row.max() ?? 0
        let e = row.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
