import Foundation
import Testing
import PlateCore

@Suite struct ReliabilityTableTests {
    /// Eight reads worked out by hand: bin 0.2-0.3 holds 0.25 (wrong) and 0.21 (right); bin 0.6-0.7 holds 0.6
    /// (right), 0.65 (wrong) and 0.69 (right); bin 0.9-1.0 holds 0.9, 0.95 and 1.0 (all right).
    static func table() -> ReliabilityTable {
        var table = ReliabilityTable()
        for (score, right) in [(0.25, false), (0.21, true), (0.6, true), (0.65, false), (0.69, true),
                               (0.9, true), (0.95, true), (1.0, true)] {
            table.add(score: score, right: right)
        }
        return table
    }

    @Test func binsCountReadsAndRightReads() {
        let bins = Self.table().bins
        #expect(bins.count == 10)
        #expect(bins.map(\.count) == [0, 0, 2, 0, 0, 0, 3, 0, 0, 3])
        #expect(bins.map(\.right) == [0, 0, 1, 0, 0, 0, 2, 0, 0, 3])
        #expect(bins[2].fractionRight == 0.5)
        #expect(abs(bins[2].meanScore! - 0.23) < 1e-12)
        #expect(abs(bins[6].meanScore! - 0.646_666_666_666_666_7) < 1e-12)
        #expect(bins[9].fractionRight == 1 && abs(bins[9].meanScore! - 0.95) < 1e-12)
        #expect(bins[0].fractionRight == nil && bins[0].meanScore == nil)
        #expect(bins[0].lower == 0 && bins[9].upper == 1)
    }

    @Test func theCalibrationErrorWeighsEachBinByItsReads() {
        // |0.5 - 0.23| * 2/8 + |2/3 - 0.64667| * 3/8 + |1 - 0.95| * 3/8
        let expected = 0.27 * 2 / 8 + abs(2.0 / 3 - 1.94 / 3) * 3 / 8 + 0.05 * 3 / 8
        #expect(abs(Self.table().expectedCalibrationError - expected) < 1e-12)
        #expect(ReliabilityTable().expectedCalibrationError == 0)
        // Ten reads at 0.75, eight right: off by 0.05.
        var calibrated = ReliabilityTable()
        for i in 0..<10 { calibrated.add(score: 0.75, right: i < 8) }
        #expect(calibrated.right == 8)
        #expect(abs(calibrated.expectedCalibrationError - 0.05) < 1e-12)
    }

    @Test func aThresholdKeepsReadsAtOrAboveIt() {
        let o = Self.table().outcome(threshold: 0.6)
        #expect(o.rightKept == 5 && o.rightDropped == 1 && o.wrongKept == 1 && o.wrongDropped == 1)
        let none = Self.table().outcome(threshold: 0)
        #expect(none.rightKept == 6 && none.wrongKept == 2 && none.rightDropped == 0 && none.wrongDropped == 0)
    }

    @Test func scoresOutsideTheRangeLandInTheEndBins() {
        let table = ReliabilityTable()
        #expect(table.binIndex(of: -0.5) == 0)
        #expect(table.binIndex(of: 1.5) == 9)
        #expect(table.binIndex(of: .nan) == 0)
        #expect(table.binIndex(of: 0.1) == 1)
        #expect(ReliabilityTable(binCount: 0).binCount == 1)
    }

    @Test func theReportPrintsEveryBinAndTheThresholdLine() {
        let lines = Self.table().report(threshold: 0.6).split(separator: "\n").map(String.init)
        #expect(lines.count == 1 + 10 + 2)
        #expect(lines[3].hasPrefix("0.2-0.3       2      1     0.500       0.230"))
        #expect(lines[11].hasPrefix("reads 8, right 6, expected calibration error 0.094"))
        #expect(lines[12] == "threshold_o 0.60: right reads kept 5, dropped 1; wrong reads kept 1, dropped 1")
    }
}
