import PlateCore

/// Multi-frame voting: the text a track's reads agree on, which is usually better than any one read,
/// because OCR mistakes in different frames rarely fall on the same character.
enum PlateVoting {
    /// The outcome of a vote.
    struct Outcome: Equatable {
        var text: String
        var score: Double
        var candidates: [PlateCandidate]
        var region: RegionGuess?
    }

    /// One string's vote: each read casts one ballot per candidate in its top-N list.
    private struct Ballot {
        var characters: [Character]
        /// The candidate's score: how much this string counts.
        var weight: Double
        /// What the string counts at each position: its score times the character's confidence.
        var characterWeights: [Double]
        /// Whether this is its read's top reading.
        var isTop: Bool
    }

    /// Votes over `reads`:
    /// 1. every candidate of every read is a ballot weighted by its score, so a read that hesitated
    ///    between two strings splits its vote between them;
    /// 2. the length with the most weight wins: reads that dropped or added a character are outvoted
    ///    as a whole instead of shifting every position after the mistake;
    /// 3. among ballots of that length, each position goes to the character with the most weight,
    ///    a character counting by string score × character confidence.
    /// The score is how much the ballots agreed (mean share of the winning character) times the mean
    /// score of the reads. Nil when there is nothing to vote on.
    static func consensus(of reads: [PlateRead], maxCandidates: Int) -> Outcome? {
        var ballots: [Ballot] = []
        for read in reads {
            for (rank, candidate) in read.candidates.enumerated() where !candidate.text.isEmpty && candidate.score > 0 {
                let characters = Array(candidate.text)
                var confidences = candidate.characterScores
                if confidences.count != characters.count, rank == 0 { confidences = read.characterScores }
                let characterWeights = confidences.count == characters.count
                    ? confidences.map { candidate.score * max(0, $0) }
                    : Array(repeating: candidate.score, count: characters.count)
                ballots.append(Ballot(characters: characters, weight: candidate.score,
                                      characterWeights: characterWeights, isTop: rank == 0))
            }
        }
        guard !ballots.isEmpty else { return nil }

        var lengthWeight: [Int: Double] = [:]
        for ballot in ballots { lengthWeight[ballot.characters.count, default: 0] += ballot.weight }
        // Ties go to the longer length: a dropped character is a commoner OCR slip than an invented one.
        let length = lengthWeight.max { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }!.key

        let voters = ballots.filter { $0.characters.count == length }
        var text: [Character] = []
        var agreement = 0.0
        for position in 0..<length {
            var weight: [Character: Double] = [:]
            for ballot in voters { weight[ballot.characters[position], default: 0] += ballot.characterWeights[position] }
            // Ties go to the smaller character so that the result never depends on hash order.
            let winner = weight.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!
            let total = weight.values.reduce(0, +)
            text.append(winner.key)
            agreement += total > 0 ? winner.value / total : 0
        }
        agreement /= Double(max(length, 1))
        let topVoters = voters.filter(\.isTop)
        let scored = topVoters.isEmpty ? voters : topVoters
        let meanScore = scored.map(\.weight).reduce(0, +) / Double(scored.count)
        let consensus = String(text)
        let score = agreement * meanScore

        // Alternatives: every other string voted for, by mean weight per read.
        var stringWeight: [String: Double] = [:]
        for ballot in ballots { stringWeight[String(ballot.characters), default: 0] += ballot.weight }
        let alternatives = stringWeight
            .filter { $0.key != consensus }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(max(0, maxCandidates - 1))
            .map { PlateCandidate(text: $0.key, score: $0.value / Double(reads.count)) }
        let candidates = [PlateCandidate(text: consensus, score: score)] + alternatives

        return Outcome(text: consensus, score: score, candidates: candidates, region: region(of: reads))
    }

    /// The region with the most total score among the reads' region guesses; its score is the mean
    /// over the reads that named it.
    static func region(of reads: [PlateRead]) -> RegionGuess? {
        var total: [String: Double] = [:], count: [String: Int] = [:]
        for case let region? in reads.map(\.region) {
            total[region.code, default: 0] += region.score
            count[region.code, default: 0] += 1
        }
        guard let best = total.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) else { return nil }
        return RegionGuess(code: best.key, score: best.value / Double(count[best.key]!))
    }

    /// The vehicle a track's detections agree on: the type with the most total score, its mean score,
    /// `box` as given, and the colour / make-model / orientation lists averaged over the detections
    /// that estimated them (top 3).
    static func vehicle(of detections: [VehicleDetection], box: BoundingBox) -> VehicleDetection? {
        guard !detections.isEmpty else { return nil }
        var typeTotal: [VehicleType: Double] = [:], typeCount: [VehicleType: Int] = [:]
        for detection in detections {
            typeTotal[detection.type, default: 0] += detection.score
            typeCount[detection.type, default: 0] += 1
        }
        let type = typeTotal.max {
            $0.value != $1.value ? $0.value < $1.value : $0.key.rawValue > $1.key.rawValue
        }!.key
        return VehicleDetection(
            type: type,
            score: typeTotal[type]! / Double(typeCount[type]!),
            box: box,
            color: averaged(detections.map(\.color), key: \.label, score: \.score) { ScoredLabel($0.label, score: $1) },
            makeModel: averaged(detections.map(\.makeModel), key: { [$0.make, $0.model] }, score: \.score) {
                MakeModelGuess(make: $0.make, model: $0.model, score: $1)
            },
            orientation: averaged(detections.map(\.orientation), key: \.label, score: \.score) { ScoredLabel($0.label, score: $1) })
    }

    /// Mean score of each entry over the lists that are not empty (an entry missing from a list
    /// counts 0 there); the top 3, best first. `rescored` makes an entry with the averaged score.
    private static func averaged<Entry, Key: Hashable>(
        _ lists: [[Entry]], key: (Entry) -> Key, score: (Entry) -> Double, rescored: (Entry, Double) -> Entry
    ) -> [Entry] {
        let estimated = lists.filter { !$0.isEmpty }
        var total: [Key: (entry: Entry, score: Double, order: Int)] = [:]
        for entry in estimated.joined() {
            // `order` keeps ties in first-seen order, so the result never depends on hash order.
            let order = total.count
            total[key(entry), default: (entry, 0, order)].score += score(entry)
        }
        return total.values
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.order < $1.order }
            .prefix(3)
            .map { rescored($0.entry, $0.score / Double(estimated.count)) }
    }
}
