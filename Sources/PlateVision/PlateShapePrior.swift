import Foundation
public import PlateCore

/// What a plate's shape says about where it is from (issue 16 item 6). Plates are made to a few sizes: a US plate is
/// 12 x 6 in (2:1), a Brazilian one, old grey or Mercosul, 400 x 130 mm (3.1:1), a European one 520 x 110 mm (4.7:1).
/// The reader never sees this: its crop is stretched to 160 x 48 whatever the plate's proportions (and so was the
/// look model's). The detector's corners keep it: the quad's width over its height.
///
/// A plate seen from the side looks narrower (a camera 45 degrees off its axis shows cos 45 = 0.71 of its width) and
/// one seen from above a little wider (a camera 22 degrees above shows 1 / cos 22 = 1.08 of it), so a family fits a
/// quad whose proportions lie between 0.71 and 1.08 of the family's, with soft edges. These are the plates' sizes and
/// the camera's geometry, not figures fitted to any picture set.
///
/// Without `regions` hints each family's share weighs its regions in the template prior (`FamilyWeights`), so a grey
/// 3:1 plate reading `0DC9387` is read as the Brazilian `ODC9387` rather than an Alabama `0DC9387`; and a plate whose
/// shape surely belongs to one family (`RecognizerConfiguration.sureFamilyAbove`) is read as `regions` naming that
/// family would read it: its formats and lengths decide. Hint-free dev reads, mean over five crop margins: br 46.8 ->
/// 91.0 %, us 74.3 -> 77.7 %, eu 82.5 -> 84.3 % (Models/ocr/README.md, "Session 16").
public struct PlateShapePrior: Sendable {
    /// A family: region code (`RegionTemplates.expand` knows it) and its plates' width over height.
    public struct Family: Sendable, Equatable {
        public var code: String
        public var aspect: Double
        public init(code: String, aspect: Double) { self.code = code; self.aspect = aspect }
    }

    /// The families told apart by shape. Korean and Chinese plates are told by their script instead (Hangul, province
    /// characters), and their sizes overlap these (Korea's 520 x 110 mm, China's 440 x 140 mm).
    public var families: [Family] = [Family(code: "us", aspect: 2.0), Family(code: "br", aspect: 400.0 / 130),
                                     Family(code: "eu", aspect: 520.0 / 110)]
    /// The narrowest a plate may look against its own proportions (seen from the side: cos 45 degrees).
    public var narrowest: Double = 0.71
    /// The widest (seen from above: 1 / cos 22 degrees).
    public var widest: Double = 1.08
    /// How soft the edges are, in log-aspect (0.04: a quad 4 % past an edge counts about a quarter).
    public var softness: Double = 0.04

    public init() {}

    /// The plate's width over its height: the mean of its top and bottom edges over the mean of its sides, on the
    /// outline the crop follows (`ONNXPlateReader.plateQuad`: the corners when plausible, else the box).
    public static func aspect(box: BoundingBox, corners: Quad?) -> Double? {
        let q = ONNXPlateReader.plateQuad(box: box, corners: corners)
        let w = (q.topLeft.distance(to: q.topRight) + q.bottomLeft.distance(to: q.bottomRight)) / 2
        let h = (q.topLeft.distance(to: q.bottomLeft) + q.topRight.distance(to: q.bottomRight)) / 2
        return h > 0 && w > 0 ? w / h : nil
    }

    /// Each family's probability (in `families` order) for a plate of this aspect, families equally likely before it
    /// is seen; nil when no family fits at all (a square sign, a two-line plate), so the shape says nothing.
    public func probabilities(aspect: Double) -> [Double]? {
        guard aspect > 0 else { return nil }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let a = log(aspect)
        let fits = families.map { f -> Double in
            let low = log(f.aspect * narrowest), high = log(f.aspect * widest)
            return sigmoid((a - low) / softness) * sigmoid((high - a) / softness)
        }
        let total = fits.reduce(0, +)
        guard total > 0.05 else { return nil }
        return fits.map { $0 / total }
    }
}

/// Region prior weights from family probabilities (the plate's look or shape): each family's probability shared evenly
/// by its regions in the pool, mixed with `uniform` of the even spread over the whole pool, so that a family guessed
/// wrong costs a read only when the characters are unsure too. Sums to 1 over the pool.
public struct FamilyWeights: Sendable {
    /// Family codes, in the order of the probabilities given.
    public let families: [String]
    /// The family (index) of every region a family covers.
    let familyOf: [String: Int]
    /// The plate lengths of each family's templates.
    public let familyLengths: [Set<Int>]

    public init(families: [String]) {
        self.families = families
        var familyOf: [String: Int] = [:]
        for (i, family) in families.enumerated() {
            for region in RegionTemplates.expand(family) where familyOf[region] == nil { familyOf[region] = i }
        }
        self.familyOf = familyOf
        familyLengths = families.map { RegionTemplates.lengths(of: RegionTemplates.expand($0)) }
    }

    /// Each region's weight.
    public func regionWeights(_ probabilities: [Double], pool: [String], uniform: Double = 0.1) -> [String: Double] {
        var members = [Int](repeating: 0, count: families.count)
        for region in pool { if let f = familyOf[region] { members[f] += 1 } }
        // The mass of families with no region in the pool, and of regions in no family, goes to the even spread.
        let covered = zip(probabilities, members).reduce(0.0) { $0 + ($1.1 > 0 ? $1.0 : 0) }
        let even = (uniform + (1 - uniform) * (1 - covered)) / Double(max(pool.count, 1))
        var weights: [String: Double] = [:]
        for region in pool {
            var w = even
            if let f = familyOf[region], members[f] > 0 { w += (1 - uniform) * probabilities[f] / Double(members[f]) }
            weights[region] = w
        }
        return weights
    }
}
