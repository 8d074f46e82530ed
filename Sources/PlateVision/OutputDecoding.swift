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
            // Greedy path; a character is a run of equal non-blank argmaxes; its distribution is taken
            // at the step where that character peaks.
            var result: [CharacterAlternatives] = []
            var previous = c.blank
            var peak: (step: Int, p: Float)? = nil
            func close() {
                guard let pk = peak else { return }
                let row = rows[pk.step]
                var choices: [(character: Character, probability: Float)] = []
                for (k, p) in row.enumerated() where k != c.blank {
                    let index = k < c.blank ? k : k - 1
                    choices.append((alphabet[index], p))
                }
                choices.sort { $0.probability > $1.probability }
                // Raw probabilities at the peak (blank left out): the first is the character's confidence.
                result.append(CharacterAlternatives(Array(choices.prefix(alternatives))))
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
