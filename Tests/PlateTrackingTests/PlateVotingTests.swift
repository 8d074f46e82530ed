import PlateCore
import Testing
@testable import PlateTracking

@Suite struct PlateVotingTests {
    private func read(_ text: String, _ score: Double, characterScores: [Double] = [],
                      candidates: [PlateCandidate] = [], region: RegionGuess? = nil) -> PlateRead {
        PlateRead(text: text, score: score, characterScores: characterScores, candidates: candidates, region: region,
                  detectionScore: 0.9, box: BoundingBox(x: 0, y: 0, width: 100, height: 30))
    }

    @Test func recoversTheTruthWhenEveryReadHasOneWrongCharacter() throws {
        var recovered = 0
        for seed in 1...200 as ClosedRange<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let truth = "KX52PLM"
            let reads = (0..<7).map { _ in
                read(withOneWrongCharacter(truth, using: &rng), Double.random(in: 0.6...0.99, using: &rng))
            }
            let best = reads.max { $0.score < $1.score }!
            #expect(best.text != truth)
            let outcome = try #require(PlateVoting.consensus(of: reads, maxCandidates: 5))
            if outcome.text == truth { recovered += 1 }
        }
        // Seven reads, each wrong in one random place: the vote loses only when the errors pile up
        // on one position with one character, which these seeds never do.
        #expect(recovered == 200)
    }

    @Test func readsOfAnotherLengthAreOutvotedAsAWhole() throws {
        let reads = [
            read("AB1234", 0.99),   // dropped a character, and the most confident read
            read("AB12345", 0.8),
            read("AB12845", 0.7),
            read("AB12345", 0.75),
        ]
        let outcome = try #require(PlateVoting.consensus(of: reads, maxCandidates: 5))
        #expect(outcome.text == "AB12345")
        #expect(outcome.candidates.map(\.text).contains("AB1234"))
    }

    @Test func characterConfidencesDecideContestedPositions() throws {
        // Two reads say 8 with low confidence on that character, one says 3 with high confidence.
        let low = [0.9, 0.9, 0.9, 0.2, 0.9]
        let high = [0.9, 0.9, 0.9, 0.95, 0.9]
        let reads = [read("AB183", 0.8, characterScores: low), read("AB183", 0.8, characterScores: low),
                     read("AB133", 0.8, characterScores: high)]
        let outcome = try #require(PlateVoting.consensus(of: reads, maxCandidates: 5))
        #expect(outcome.text == "AB133")
    }

    @Test func alternativesVoteWithTheirScores() throws {
        // Each read hesitates between O and 0; the readers' second choices tip the balance.
        let reads = [
            read("ABO12", 0.5, candidates: [PlateCandidate(text: "ABO12", score: 0.5), PlateCandidate(text: "AB012", score: 0.45)]),
            read("AB012", 0.6),
            read("ABO12", 0.5, candidates: [PlateCandidate(text: "ABO12", score: 0.5), PlateCandidate(text: "AB012", score: 0.45)]),
        ]
        let outcome = try #require(PlateVoting.consensus(of: reads, maxCandidates: 5))
        #expect(outcome.text == "AB012")
        #expect(outcome.candidates.map(\.text) == ["AB012", "ABO12"])
    }

    @Test func unanimousReadsKeepTheirScore() throws {
        let outcome = try #require(PlateVoting.consensus(of: [read("XY123", 0.9), read("XY123", 0.9)], maxCandidates: 5))
        #expect(outcome.text == "XY123")
        #expect(abs(outcome.score - 0.9) < 1e-12)
        #expect(outcome.candidates == [PlateCandidate(text: "XY123", score: outcome.score)])
    }

    @Test func regionIsVotedByTotalScore() throws {
        let reads = [read("A1", 0.9, region: RegionGuess(code: "us-pa", score: 0.4)),
                     read("A1", 0.9, region: RegionGuess(code: "us-pa", score: 0.3)),
                     read("A1", 0.9, region: RegionGuess(code: "us-ny", score: 0.6)),
                     read("A1", 0.9)]
        let region = try #require(PlateVoting.consensus(of: reads, maxCandidates: 5)?.region)
        #expect(region.code == "us-pa")
        #expect(abs(region.score - 0.35) < 1e-12)
    }

    @Test func nothingToVoteOn() {
        #expect(PlateVoting.consensus(of: [], maxCandidates: 5) == nil)
        #expect(PlateVoting.consensus(of: [read("", 0.9)], maxCandidates: 5) == nil)
    }
}
