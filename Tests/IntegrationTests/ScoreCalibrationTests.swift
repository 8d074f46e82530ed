import Foundation
import PlateCore
import PlateVision
import Testing

private typealias H = DecodeHarness

/// The read-score calibration: a rising piecewise-linear map, checked when loaded, applied to a read's score and
/// candidates.
@Suite struct ScoreCalibrationTests {
    typealias K = ScoreCalibration.Knot

    static func calibration() throws -> ScoreCalibration {
        try ScoreCalibration(hinted: [K(raw: 0.5, probability: 0.2), K(raw: 1, probability: 0.9)],
                             fitting: [K(raw: 0.8, probability: 0.1), K(raw: 0.9, probability: 0.5), K(raw: 1, probability: 0.95)],
                             free: [K(raw: 0.9, probability: 0.05), K(raw: 1, probability: 0.6)])
    }

    @Test func itInterpolatesBetweenKnotsAndIsFlatBeyondThem() throws {
        let c = try Self.calibration()
        #expect(abs(c.probability(0.85, matchesTemplate: true, hinted: false) - 0.3) < 1e-12)
        #expect(c.probability(0.2, matchesTemplate: true, hinted: false) == 0.1)
        #expect(c.probability(1.5, matchesTemplate: true, hinted: false) == 0.95)
        #expect(abs(c.probability(0.75, matchesTemplate: true, hinted: true) - 0.55) < 1e-12)
        #expect(abs(c.probability(0.95, matchesTemplate: false, hinted: true) - 0.325) < 1e-12)
    }

    @Test func aCurveThatFallsOrIsEmptyIsRefused() {
        #expect(throws: ModelError.self) {
            try ScoreCalibration(hinted: [K(raw: 0.5, probability: 0.6), K(raw: 0.9, probability: 0.4)], fitting: [K(raw: 1, probability: 1)],
                                 free: [K(raw: 1, probability: 1)])
        }
        #expect(throws: ModelError.self) { try ScoreCalibration(hinted: [], fitting: [K(raw: 1, probability: 1)], free: [K(raw: 1, probability: 1)]) }
        #expect(throws: ModelError.self) {
            try ScoreCalibration.load(Data(#"{"hinted": [[0.5]], "fitting": [], "free": []}"#.utf8), path: "x.json")
        }
    }

    @Test func aReadKeepsItsOrderAndNoCandidateOutscoresIt() throws {
        let read = PlateRead(text: "ABC123", score: 0.9, candidates: [PlateCandidate(text: "ABC123", score: 0.9),
                                                                      PlateCandidate(text: "A8C123", score: 0.99)],
                             matchesTemplate: true, detectionScore: 0.8, box: BoundingBox(x: 0, y: 0, width: 10, height: 5))
        let out = try Self.calibration().apply(to: read, hinted: false)
        #expect(out.score == 0.5)
        #expect(out.candidates.map(\.text) == ["ABC123", "A8C123"])
        #expect(out.candidates[0].score == 0.5 && out.candidates[1].score == 0.5)
        #expect(out.text == read.text && out.box == read.box)
    }

    @Test func theShippedCalibrationLoadsAndRises() throws {
        let c = try ScoreCalibration.bundled(in: H.repositoryRoot.appendingPathComponent("Models").path)
        for curve in [c.hinted, c.fitting, c.free] {
            #expect(curve.count >= 3)
            #expect(zip(curve, curve.dropFirst()).allSatisfy { $0.raw < $1.raw && $0.probability <= $1.probability })
        }
        // The reader's raw scores are overconfident: a raw 0.95 is right well under 95 % of the time.
        #expect(c.probability(0.95, matchesTemplate: true, hinted: false) < 0.8)
    }
}
