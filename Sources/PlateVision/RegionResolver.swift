import Foundation
public import PlateCore

/// Chooses among a reader's candidates using region templates, and guesses the region (OpenALPR's
/// post-processing, with Plate Recognizer's `regions` and `region: strict` semantics).
public struct RegionResolver: Sendable {
    /// How far below the top candidate a template-matching candidate may score and still win:
    /// hints are a guide, ignored when "the prediction differs too much" (Plate Recognizer docs).
    public var hintMargin: Double = 0.001
    /// The same margin without hints, where every known template counts: a plain read wins more easily.
    public var unhintedMargin: Double = 0.1

    /// How much the template prior counts against the reader's own score (1 = plain Bayes).
    public var priorWeight: Double = 1

    /// A resolver with the default margin.
    public init() {}

    /// The outcome for one plate.
    public struct Resolution: Sendable, Equatable {
        /// The chosen text and its score.
        public var best: PlateCandidate
        /// All candidates, the chosen one first, each still with its own score.
        public var candidates: [PlateCandidate]
        /// The region guess (see `guessRegion`): never nil for an accepted read.
        public var region: RegionGuess?
        /// Whether the chosen text matches a template of the hinted regions (of any region without hints).
        public var matchesTemplate: Bool
        /// With hints, the chosen text's probability given the hinted format it fits (see `formatScore`); nil
        /// without hints, or when the text fits no hinted template or the characters were not given.
        public var formatScore: Double?
    }

    /// Resolves candidates (best first); returns `.rejected` in strict mode when nothing matches.
    /// With `characters` (the reader's per-position alternatives), each template of the pool also proposes
    /// its own best spelling (the likeliest allowed character at every position), so a read that confuses
    /// O/0 or B/8 where the format wants the other is put right even when that spelling is not in the top N.
    /// `otherReadings`: readings of other lengths from the same reader output (see `ReaderOutputDecoder.decodeCTC`),
    /// whose template spellings compete too.
    /// `regionWeights`: without hints, each region's prior weight from the plate's look (`PlateLookClassifier`) in place
    /// of the even spread over every region; ignored with hints.
    public func resolve(_ candidates: [PlateCandidate], hints: [String], strict: Bool,
                        characters: [CharacterAlternatives] = [],
                        otherReadings: [[CharacterAlternatives]] = [], topBlueBand: Bool? = nil,
                        regionWeights: [String: Double]? = nil) -> (Resolution?, PlateVerdict) {
        guard let top = candidates.first else { return (nil, .rejected(reason: .tooShort)) }
        let hinted = hints.flatMap(RegionTemplates.expand)
        let pool = hinted.isEmpty ? RegionTemplates.codes : hinted
        let margin = hinted.isEmpty ? unhintedMargin : hintMargin
        let weights = hinted.isEmpty ? regionWeights : nil
        let wanted = candidates.count
        var candidates = candidates
        if !characters.isEmpty {
            let known = Set(candidates.map(\.text))
            var proposals = Self.constrained(characters, regions: pool)
            if !hinted.isEmpty && characters.count > 4
                && !pool.contains(where: { !RegionTemplates.compiled(region: $0, length: characters.count).isEmpty }) {
                // The user named the regions and no plate of theirs has this many characters: a read one character
                // too long (a bolt, a sticker, a dash read as "I") may lose one character to fit their format.
                for drop in characters.indices {
                    var shorter = characters
                    let removed = shorter.remove(at: drop)
                    let keep = Double(1 - removed.best.probability)
                    proposals += Self.constrained(shorter, regions: pool).map { PlateCandidate(text: $0.text, score: $0.score * keep) }
                }
            }
            for reading in otherReadings { proposals += Self.constrained(reading, regions: pool) }
            var seen = Set<String>()
            let extra = proposals.sorted { $0.score > $1.score }.filter { !known.contains($0.text) && seen.insert($0.text).inserted }
            if !extra.isEmpty {
                candidates = (candidates + extra).sorted { $0.score > $1.score }
            }
        }
        // Each candidate's text coded once for the template tests below.
        let coded = candidates.map { RegionTemplates.CodedText($0.text) }
        let matching = coded.map { RegionTemplates.matchingRegions($0, among: pool) }
        // Among the candidates close enough to the top one, the most probable given the templates:
        // reader score times how likely the templates make that text (a Bayesian prior: a narrow format
        // such as LL DDD LL makes each of its texts likelier than a catch-all format does).
        var chosen = 0
        var bestPosterior = -Double.infinity
        for i in candidates.indices where candidates[i].score >= top.score * margin || i == 0 {
            let prior = Self.prior(coded[i], regions: matching[i], poolSize: pool.count, topBlueBand: topBlueBand,
                                   weights: weights)
            let posterior = log(max(candidates[i].score, 1e-30)) + priorWeight * log(prior)
            if posterior > bestPosterior { bestPosterior = posterior; chosen = i }
        }
        let best = candidates[chosen]
        let regions = matching[chosen]
        let matches = !regions.isEmpty
        if strict && !matches {
            let detail = hinted.isEmpty ? "no known template" : "regions \(hints.joined(separator: ","))"
            return (nil, .rejected(reason: RejectionReason(code: RejectionReason.noTemplateMatch.code, detail: detail)))
        }
        let region = Self.guessRegion(text: best.text, matching: regions, pool: pool, hinted: !hinted.isEmpty, hints: hints,
                                      topBlueBand: topBlueBand, regionWeights: weights)
        let ordered = Array(([best] + candidates.enumerated().filter { $0.offset != chosen }.map(\.element)).prefix(wanted))
        let reading = ([characters] + otherReadings).first { $0.count == best.text.count && !$0.isEmpty }
        let format = hinted.isEmpty || !matches ? nil : reading.map { Self.formatScore(coded[chosen], reading: $0, regions: regions) }
        return (Resolution(best: best, candidates: ordered, region: region, matchesTemplate: matches, formatScore: format),
                .accepted(region: region))
    }

    /// The probability of `text` given that the plate has a format of `regions` it fits: each character's probability
    /// given that the character there is one the template allows, p(c) / (1 - p(characters it does not allow)),
    /// multiplied (the best template). The user named the regions, so the format is known: a Brazilian O the reader
    /// took for 0 (0 at 0.9, O at 0.08) is an O at 0.8 once the format says a letter goes there, where the plain
    /// product counts it as a 0.08 character; a character the format does not question keeps its probability.
    static func formatScore(_ text: String, reading: [CharacterAlternatives], regions: [String]) -> Double {
        formatScore(RegionTemplates.CodedText(text), reading: reading, regions: regions)
    }

    /// `formatScore(_:reading:regions:)` of a text already coded.
    static func formatScore(_ coded: RegionTemplates.CodedText, reading: [CharacterAlternatives], regions: [String]) -> Double {
        let chars = coded.characters
        guard chars.count == reading.count else { return 0 }
        let choiceCodes = reading.map(Self.codes)
        var best = 0.0
        for region in regions {
            for template in RegionTemplates.compiled(region: region, length: chars.count) where template.fits(coded) {
                var score = 1.0
                for (i, alternatives) in reading.enumerated() {
                    let c = chars[i]
                    let p = Double(alternatives.choices.first { $0.character == c }?.probability ?? 0)
                    var excluded = 0.0
                    for (j, choice) in alternatives.choices.enumerated() where !template.allows(i, choice.character, code: choiceCodes[i][j]) {
                        excluded += Double(choice.probability)
                    }
                    score *= excluded < 1 ? min(1, p / (1 - excluded)) : 0
                }
                best = max(best, score)
            }
        }
        return best
    }

    /// P(text) under a uniform choice of region in a pool of `poolSize` (or each region's `weights`), each region
    /// spreading its mass evenly over the texts of its narrowest matching template; plus a small share for free text
    /// (vanity plates, unknown formats) so a confident read that fits no template still stands.
    static func prior(_ text: String, regions matching: [String], poolSize: Int, topBlueBand: Bool? = nil,
                      weights: [String: Double]? = nil) -> Double {
        prior(RegionTemplates.CodedText(text), regions: matching, poolSize: poolSize, topBlueBand: topBlueBand, weights: weights)
    }

    /// `prior(_:regions:poolSize:topBlueBand:weights:)` of a text already coded.
    static func prior(_ coded: RegionTemplates.CodedText, regions matching: [String], poolSize: Int, topBlueBand: Bool? = nil,
                      weights: [String: Double]? = nil) -> Double {
        let length = coded.characters.count
        var total = 0.05 * pow(36, -Double(length))
        for region in matching {
            var best = 0.0
            for template in RegionTemplates.compiled(region: region, length: length) where template.fits(coded) {
                best = max(best, Self.styleWeight(region: region, slots: template.slots, topBlueBand: topBlueBand) / template.combinations)
            }
            total += best * (weights?[region] ?? 1 / Double(max(poolSize, 1)))
        }
        return total
    }

    /// How much the plate's look makes a template likelier. Brazil's two formats differ only in the fifth place,
    /// a digit on the old grey plates and a letter A-J on Mercosul ones, which carry a blue band on top; a reader
    /// easily takes 1 for I (or 0 for D) there, and the band tells which format the plate has. Not a hard
    /// rule: a read the reader is sure of still wins against a band missed in bad light.
    static func styleWeight(region: String, slots: RegionTemplates.Slots, topBlueBand: Bool?) -> Double {
        guard let band = topBlueBand, region == "br", slots.count == 7 else { return 1 }
        let mercosul = !slots[4].isSubset(of: RegionTemplates.digits)
        return mercosul == band ? 1 : 0.02
    }

    /// The best spelling of each template (of `regions`) that has as many characters as the read, best first.
    static func constrained(_ characters: [CharacterAlternatives], regions: [String]) -> [PlateCandidate] {
        var best: [String: Double] = [:]
        let choiceCodes = characters.map(Self.codes)
        for region in regions {
            for template in RegionTemplates.compiled(region: region, length: characters.count) {
                var picks: [Character] = []
                picks.reserveCapacity(characters.count)
                var score = 1.0
                for (i, alternatives) in characters.enumerated() {
                    let codes = choiceCodes[i]
                    guard let j = alternatives.choices.indices.first(where: { template.allows(i, alternatives.choices[$0].character, code: codes[$0]) })
                    else { score = 0; break }
                    picks.append(alternatives.choices[j].character)
                    score *= Double(alternatives.choices[j].probability)
                }
                guard score > 0 else { continue }
                let text = String(picks)
                if score > best[text] ?? 0 { best[text] = score }
            }
        }
        return best.map { PlateCandidate(text: $0.key, score: $0.value) }.sorted { $0.score > $1.score }
    }

    /// The `RegionTemplates.latinCode` of each of a position's choices.
    private static func codes(_ alternatives: CharacterAlternatives) -> [Int8] {
        alternatives.choices.map { RegionTemplates.latinCode($0.character).map(Int8.init) ?? -1 }
    }

    /// The region a read comes from, never none (Plate Recognizer always answers one), with a score that says how sure
    /// it is:
    /// - Hangul or a Chinese province character: `kr` / `cn`, 0.95.
    /// - The text fits templates of the pool (`matching`): the region whose template makes it likeliest (the template
    ///   prior: a narrow format beats a catch-all one; Brazil's blue band counts; on a tie the country with the most
    ///   regions that fit), scored by its share of that
    ///   likelihood: 0.5-0.9 with hints, at most 0.5 without (a US-style text fits dozens of states).
    /// - It fits none, but one character added, dropped or changed would fit a template of the pool: the country of
    ///   those templates (`us`, not a state: no state's template fits), 0.3 with hints and 0.15 without, shared among
    ///   the countries that are that near.
    /// - Else the country whose templates come nearest (the first hint's country on a tie), 0.1 with hints and 0.05
    ///   without; `fallbackRegion` at 0.01 when no template has a length near the text's.
    /// Without hints, `regionWeights` (the plate's look) multiply each matching region's template prior.
    static func guessRegion(text: String, matching: [String], pool: [String], hinted: Bool, hints: [String] = [],
                            topBlueBand: Bool? = nil, regionWeights: [String: Double]? = nil, fallbackRegion: String = "us") -> RegionGuess {
        func rounded(_ score: Double) -> Double { (score * 1000).rounded() / 1000 }
        if text.unicodeScalars.contains(where: { (0xAC00...0xD7A3).contains($0.value) }) { return RegionGuess(code: "kr", score: 0.95) }
        if text.contains(where: { RegionTemplates.chineseProvinces.contains($0) }) { return RegionGuess(code: "cn", score: 0.95) }
        if !matching.isEmpty {
            let coded = RegionTemplates.CodedText(text)
            let weights = matching.map { prior(coded, regions: [$0], poolSize: 1, topBlueBand: topBlueBand) * (regionWeights?[$0] ?? 1) }
            // Equally likely templates (LLL DDDD fits Brazil, Austria's catch-all and twenty states) go to the country
            // with the most regions that fit, then by name: a US-style text is a state's, not Austria's.
            let fits = Dictionary(grouping: matching, by: RegionTemplates.country(of:)).mapValues(\.count)
            func key(_ i: Int) -> (Double, Int, String) { (weights[i], fits[RegionTemplates.country(of: matching[i])] ?? 0, matching[i]) }
            let best = weights.indices.max { a, b in
                let (ka, kb) = (key(a), key(b))
                return ka.0 != kb.0 ? ka.0 < kb.0 : ka.1 != kb.1 ? ka.1 < kb.1 : ka.2 > kb.2
            }!
            let share = weights[best] / weights.reduce(0, +)
            return RegionGuess(code: matching[best], score: rounded(hinted ? min(0.9, 0.5 + share / 2) : share * 0.5))
        }
        // How far the text is from each country's templates (the nearest of its regions).
        var distance: [String: Int] = [:], near: [String: Int] = [:]
        for region in pool {
            guard let d = RegionTemplates.distance(text, region: region, within: 2) else { continue }
            let country = RegionTemplates.country(of: region)
            distance[country] = min(distance[country] ?? .max, d)
            if d == 1 { near[country, default: 0] += 1 }
        }
        let hintCountries = hints.map(RegionTemplates.country(of:))
        if !near.isEmpty {
            // The country nearest by most of its regions (a us text one off fits many states), then by name.
            let country = near.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key
            return RegionGuess(code: country, score: rounded((hinted ? 0.3 : 0.15) / Double(near.count)))
        }
        guard let least = distance.values.min() else {
            return RegionGuess(code: hintCountries.first ?? fallbackRegion, score: 0.01)
        }
        let nearest = distance.filter { $0.value == least }.keys.sorted()
        let country = hintCountries.first(where: nearest.contains) ?? nearest[0]
        return RegionGuess(code: country, score: hinted ? 0.1 : 0.05)
    }
}
