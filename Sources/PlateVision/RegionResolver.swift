public import PlateCore

/// Chooses among a reader's candidates using region templates, and guesses the region (OpenALPR's
/// post-processing, with Plate Recognizer's `regions` and `region: strict` semantics).
public struct RegionResolver: Sendable {
    /// How far below the top candidate a template-matching candidate may score and still win:
    /// hints are a guide, ignored when "the prediction differs too much" (Plate Recognizer docs).
    public var hintMargin: Double = 0.1

    /// A resolver with the default margin.
    public init() {}

    /// The outcome for one plate.
    public struct Resolution: Sendable, Equatable {
        /// The chosen text and its score.
        public var best: PlateCandidate
        /// All candidates, the chosen one first, each still with its own score.
        public var candidates: [PlateCandidate]
        /// The region guess, if any template matched.
        public var region: RegionGuess?
        /// Whether the chosen text matches a template of the hinted regions (of any region without hints).
        public var matchesTemplate: Bool
    }

    /// Resolves candidates (best first); returns `.rejected` in strict mode when nothing matches.
    public func resolve(_ candidates: [PlateCandidate], hints: [String], strict: Bool) -> (Resolution?, PlateVerdict) {
        guard let top = candidates.first else { return (nil, .rejected(reason: .tooShort)) }
        let hinted = hints.flatMap(RegionTemplates.expand)
        let pool = hinted.isEmpty ? RegionTemplates.codes : hinted
        let matching = candidates.map { RegionTemplates.matchingRegions($0.text, among: pool) }
        // The best candidate that fits a template, if it is close enough to the top one.
        var chosen = 0
        if let i = matching.indices.first(where: { !matching[$0].isEmpty }),
           candidates[i].score >= top.score * hintMargin || i == 0 {
            chosen = i
        }
        let best = candidates[chosen]
        let regions = matching[chosen]
        let matches = !regions.isEmpty
        if strict && !matches {
            let detail = hinted.isEmpty ? "no known template" : "regions \(hints.joined(separator: ","))"
            return (nil, .rejected(reason: RejectionReason(code: RejectionReason.noTemplateMatch.code, detail: detail)))
        }
        let region = Self.guessRegion(text: best.text, matching: regions, hinted: !hinted.isEmpty)
        let ordered = [best] + candidates.enumerated().filter { $0.offset != chosen }.map(\.element)
        return (Resolution(best: best, candidates: ordered, region: region, matchesTemplate: matches),
                .accepted(region: region))
    }

    /// Script-specific characters decide kr and cn outright; otherwise the score is spread over the
    /// regions whose templates match (a US-style text fits dozens of states), more so without hints.
    static func guessRegion(text: String, matching: [String], hinted: Bool) -> RegionGuess? {
        if text.unicodeScalars.contains(where: { (0xAC00...0xD7A3).contains($0.value) }) { return RegionGuess(code: "kr", score: 0.95) }
        if text.contains(where: { RegionTemplates.chineseProvinces.contains($0) }) { return RegionGuess(code: "cn", score: 0.95) }
        guard let first = matching.first else { return nil }
        let share = 1 / Double(matching.count)
        let score = hinted ? min(0.9, 0.5 + share / 2) : share * 0.5
        return RegionGuess(code: first, score: (score * 1000).rounded() / 1000)
    }
}
