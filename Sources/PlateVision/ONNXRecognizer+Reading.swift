import Foundation
public import PlateCore

/// Reading the plates found: the crops of each plate, the reader's runs over them, the region templates' choice, the
/// crops' vote; without hints, the plate's look or shape standing in for the region hint (`PlateShapePrior`).
extension ONNXRecognizer {
    /// Each plate's read: the standard crop, then (outside `mode: fast`) the extra crops until one text has most
    /// of the votes; nil when most crops read nothing (a sure first read aside) or the read scores under
    /// `threshold_o`. The plates' crops of each round go through the reader together (batched).
    func readPlates(_ detections: [PlateDetection], in image: Image, worker: Worker, options: RecognitionOptions) throws -> [PlateRead?] {
        // A cropped upload is often cut tight at the first or last character; the reader wants some
        // background around the text, so it gets the same margins (edge pixels repeated) as a detection.
        let margins = [(x: configuration.cropMargin, y: configuration.cropMargin)]
            + (options.mode == .fast ? [] : configuration.extraCrops)
        var reads = [[PlateRead]](repeating: [], count: detections.count)
        var sure = [Bool](repeating: false, count: detections.count)
        var open = Set(detections.indices)
        for (i, m) in margins.enumerated() where !open.isEmpty {
            let round = open.sorted()
            let crops = try round.map { try worker.reader.crop(image, box: detections[$0].box, corners: detections[$0].corners, marginX: m.x, marginY: m.y) }
            let results = try read(crops, marginY: m.y, detections: round.map { detections[$0] }, worker: worker, options: options)
            for (k, result) in zip(round, results) {
                if let result { reads[k].append(result) }
                // A first read that fits a template with every character sure needs no second opinion.
                if i == 0, let first = reads[k].first, let floor = configuration.sureReadScore, first.matchesTemplate,
                   let least = first.characterScores.min(), least >= floor {
                    sure[k] = true
                    open.remove(k)
                }
                // Once a text has a majority of the crops' votes the rest cannot change the outcome.
                if let leader = reads[k].last, reads[k].filter({ $0.text == leader.text }).count * 2 > margins.count { open.remove(k) }
            }
        }
        // When a later look moved the box and the crops did not agree at once, the first pass's own box gets a vote:
        // the close look sometimes keeps only part of a plate (split at an emblem) or slides onto a lamp beside it.
        var opinions = [Int](repeating: margins.count, count: detections.count)
        let second: [(k: Int, first: PlateDetection.Placement)] = options.mode == .fast ? [] : detections.indices.compactMap { k in
            guard !sure[k], let first = detections[k].firstLook,
                  first.box.iou(detections[k].box) < configuration.firstLookVoteBelowIoU else { return nil }
            return (k, first)
        }
        if !second.isEmpty {
            let crops = try second.map {
                try worker.reader.crop(image, box: $0.first.box, corners: $0.first.corners,
                                       marginX: configuration.cropMargin, marginY: configuration.cropMargin)
            }
            let results = try read(crops, marginY: configuration.cropMargin, detections: second.map { detections[$0.k] }, worker: worker, options: options)
            for ((k, _), result) in zip(second, results) {
                if let result { reads[k].append(result) }
                opinions[k] += 1
            }
        }
        return detections.indices.map { k in
            // Something that reads as a plate in only one of the crops is more often a sign, a bumper sticker
            // or a grille than a plate: most crops must read (a sure first read aside).
            guard sure[k] || reads[k].count * 2 > opinions[k],
                  var read = Self.vote(reads[k], limit: max(1, min(options.topN, 1000))) else { return nil }
            if let calibration = configuration.scoreCalibration { read = calibration.apply(to: read, hinted: !options.regions.isEmpty) }
            guard read.score >= options.readThreshold || options.readThreshold <= 0 else { return nil }
            return read
        }
    }

    /// The text most reads agree on (ties: the higher score), as the read of it that scored best; its
    /// candidates gain the other reads' texts it lacks.
    public static func vote(_ reads: [PlateRead], limit: Int = 1000) -> PlateRead? {
        guard reads.count > 1 else { return reads.first }
        var votes: [String: (count: Int, best: PlateRead)] = [:]
        for read in reads {
            if let v = votes[read.text] {
                votes[read.text] = (v.count + 1, read.score > v.best.score ? read : v.best)
            } else {
                votes[read.text] = (1, read)
            }
        }
        guard var winner = votes.values.max(by: { ($0.count, $0.best.score) < ($1.count, $1.best.score) })?.best else { return nil }
        var seen = Set(winner.candidates.map(\.text))
        for read in reads.sorted(by: { $0.score > $1.score }) where !seen.contains(read.text) && winner.candidates.count < limit {
            winner.candidates.append(PlateCandidate(text: read.text, score: read.score))
            seen.insert(read.text)
        }
        return winner
    }

    /// The reads of `crops` (one run of the reader for all of them), each the plate of the detection at its index.
    private func read(_ crops: [Image], marginY: Double, detections: [PlateDetection], worker: Worker, options: RecognitionOptions) throws -> [PlateRead?] {
        // Hints narrow the alphabet: a US plate has no Hangul, whatever a sticker looks like.
        let hinted = options.regions.flatMap(RegionTemplates.expand)
        // Hints also say how long a plate is: when the greedy reading has a length no hinted format has, the
        // best readings of the neighbouring lengths the formats do have are decoded from the same output.
        let lengths = hinted.isEmpty ? Set<Int>() : RegionTemplates.lengths(of: hinted)
        // Without hints, what each plate looks like (the look model, one run for all crops) or, without a look model, its
        // proportions (the detector's corners, `PlateShapePrior`) weigh the regions by family. A plate that surely
        // belongs to one family is read as if that family had been hinted: its formats decide O or 0 where they
        // differ, and it is as long as that family's plates (the reader's best readings of those lengths compete with
        // a greedy reading of another length).
        var weights = [[String: Double]?](repeating: nil, count: crops.count)
        var sure = [(family: String, lengths: Set<Int>)?](repeating: nil, count: crops.count)
        if hinted.isEmpty {
            var family: FamilyWeights?
            var probabilities: [[Double]?] = []
            if let look = worker.look {
                family = look.weights
                probabilities = try look.probabilities(crops)
            } else if let shape = configuration.shapePrior {
                family = shapeWeights
                probabilities = detections.map { d in PlateShapePrior.aspect(box: d.box, corners: d.corners).flatMap { shape.probabilities(aspect: $0) } }
            }
            if let family {
                let pool = RegionTemplates.codes
                for (k, p) in probabilities.enumerated() {
                    guard let p else { continue }
                    weights[k] = family.regionWeights(p, pool: pool)
                    guard let i = p.indices.max(by: { p[$0] < p[$1] }), p[i] >= configuration.sureFamilyAbove else { continue }
                    sure[k] = (family.families[i], family.familyLengths[i])
                }
            }
        }
        let decoded = sure.reduce(lengths) { $0.union($1?.lengths ?? []) }
        let outputs = try worker.reader.read(crops, allowed: hinted.isEmpty ? nil : RegionTemplates.alphabet(of: hinted), lengths: decoded)
        return crops.indices.map { k in
            interpret(outputs[k], crop: crops[k], marginY: marginY, detection: detections[k], hinted: hinted, lengths: lengths,
                      regionWeights: weights[k], sureFamily: sure[k], options: options)
        }
    }

    /// A plate read from the reader's output for one crop: candidates, the region templates' choice, scores.
    private func interpret(_ output: (greedy: [CharacterAlternatives], fixed: [[CharacterAlternatives]]), crop: Image, marginY: Double,
                           detection: PlateDetection, hinted: [String], lengths: Set<Int>, regionWeights: [String: Double]?,
                           sureFamily: (family: String, lengths: Set<Int>)?, options: RecognitionOptions) -> PlateRead? {
        let (characters, fixed) = output
        guard !characters.isEmpty else { return nil }
        // A plate surely of one family (its look or shape, without hints) reads as if the family were hinted; not one
        // whose reading has Hangul or Chinese characters, which say the family themselves (a Chinese plate is 3:1 too).
        let guess = options.regions.isEmpty && characters.allSatisfy({ $0.best.character.isASCII }) ? sureFamily : nil
        let hints = guess.map { [$0.family] } ?? options.regions
        let lengths = lengths.union(guess?.lengths ?? [])
        // (The reader decoded the lengths of every crop's family; this crop's are the ones its own hints or family have.)
        let others = lengths.contains(characters.count) ? [] : fixed.filter { abs($0.count - characters.count) == 1 && lengths.contains($0.count) }
        let texts = CandidateCombiner.topN(characters, n: max(1, min(options.topN, 1000)))
        let candidates = texts.map { PlateCandidate(text: $0.text, score: Double($0.score)) }
        // The band only weighs Brazil's templates: no need to look for it when the hints leave Brazil out.
        let band = hinted.isEmpty || hinted.contains("br") ? PlateColor.hasTopBlueBand(crop, marginY: marginY) : nil
        // `region: strict` keeps its meaning for the user, who named no regions: a read must fit some region's template.
        let guessed = guess != nil
        let (resolution, verdict) = resolver.resolve(candidates, hints: hints, strict: options.regionStrict && !guessed,
                                                    characters: characters, otherReadings: others, topBlueBand: band,
                                                    regionWeights: regionWeights)
        guard case .accepted = verdict, let r = resolution else { return nil }
        if guessed && options.regionStrict && RegionTemplates.matchingRegions(r.best.text).isEmpty { return nil }
        // Per-character confidences of the chosen text: each character's probability at its position.
        let chosen = Array(r.best.text)
        let reading = ([characters] + others).first { $0.count == chosen.count } ?? []
        let characterScores: [Double] = zip(chosen, reading).map { c, alt in Double(alt.choices.first { $0.character == c }?.probability ?? 0) }
        // Scores are per character (the geometric mean of the character probabilities), as Plate Recognizer's
        // are: a product would make every long plate look doubtful and tie threshold_o to the plate's length.
        func perCharacter(_ c: PlateCandidate) -> PlateCandidate {
            PlateCandidate(text: c.text, score: c.text.isEmpty ? 0 : pow(max(c.score, 0), 1 / Double(c.text.count)))
        }
        // With hints the score is the text's probability given the hinted format it fits (RegionResolver.formatScore).
        // Not with a family only guessed from the plate's look or shape: the score stays the reader's own, so that the
        // frames of one vehicle, some surely of a family and some not, score alike (a tracker keeps the best frame).
        var best = perCharacter(r.best)
        if let format = r.formatScore, !guessed { best = perCharacter(PlateCandidate(text: r.best.text, score: format)) }
        guard best.text.count >= configuration.minimumCharacters else { return nil }
        return PlateRead(text: best.text, score: best.score, characterScores: characterScores,
                         candidates: [best] + r.candidates.dropFirst().map(perCharacter), region: r.region, matchesTemplate: r.matchesTemplate,
                         detectionScore: detection.score, box: detection.box, corners: detection.corners,
                         plateType: "Plate", color: PlateColor.estimate(crop).label)
    }
}
