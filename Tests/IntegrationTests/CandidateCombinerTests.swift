import Testing
@testable import PlateVision

@Suite struct CandidateCombinerTests {
    @Test func bestFirstAndExactlyTheTopCombinations() {
        let positions = [
            CharacterAlternatives([("A", 0.9), ("4", 0.1)]),
            CharacterAlternatives([("B", 0.6), ("8", 0.4)]),
            CharacterAlternatives([("1", 0.99), ("I", 0.01)]),
        ]
        let top = CandidateCombiner.topN(positions, n: 10)
        #expect(top.count == 8)                                   // 2 x 2 x 2 combinations in all
        #expect(top.map(\.text).prefix(3) == ["AB1", "A81", "4B1"])
        #expect(abs(top[0].score - 0.9 * 0.6 * 0.99) < 1e-5)
        #expect(Set(top.map(\.text)).count == 8)                  // no duplicates
        #expect(zip(top, top.dropFirst()).allSatisfy { $0.score >= $1.score })
        // Brute force agrees on the full order.
        var all: [(String, Float)] = []
        for a in positions[0].choices { for b in positions[1].choices { for c in positions[2].choices {
            all.append((String([a.character, b.character, c.character]), a.probability * b.probability * c.probability))
        } } }
        all.sort { $0.1 > $1.1 }
        #expect(top.map(\.text) == all.map(\.0))
    }

    @Test func respectsNAndLimits() {
        let positions = (0..<8).map { _ in CharacterAlternatives([("A", 0.5), ("B", 0.3), ("C", 0.2)]) }
        #expect(CandidateCombiner.topN(positions, n: 1000).count == 1000)
        #expect(CandidateCombiner.topN(positions, n: 1).map(\.text) == ["AAAAAAAA"])
        #expect(CandidateCombiner.topN(positions, n: 0).isEmpty)
        #expect(CandidateCombiner.topN([], n: 5).isEmpty)
        // minProbability drops weak alternatives but always keeps the best one.
        let weak = [CharacterAlternatives([("Z", 0.0001)]), CharacterAlternatives([("Q", 0.7), ("O", 0.0002)])]
        #expect(CandidateCombiner.topN(weak, n: 5).map(\.text) == ["ZQ"])
    }
}
