import Foundation
import Testing

private typealias H = DecodeHarness

/// `platestream eval` prints a calibration table (reads by score bin, fraction right, mean score, expected calibration
/// error, what threshold_o 0.6 keeps and drops). Checked on a tiny labelled set made here from the rendered crops in
/// Samples/plates, two of them labelled wrongly on purpose so that the table has wrong reads, against the per-read
/// scores the same run writes with `--scores`.
@Suite(.serialized) struct EvalCalibrationTests {
    static var models: String { H.repositoryRoot.appendingPathComponent("Models").path }

    @Test func theCalibrationTableAddsUpToTheReadsItCounts() async throws {
        let dir = try H.temporaryDirectory("eval-calibration")
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: set.appendingPathComponent("images"), withIntermediateDirectories: true)
        let samples = H.repositoryRoot.appendingPathComponent("Samples/plates")
        let all = try String(contentsOf: samples.appendingPathComponent("labels.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        let picked = all.filter { ["us", "eu", "br_old"].contains($0["style"]) }
        #expect(picked.count == 12)
        var lines: [String] = []
        for (i, label) in picked.enumerated() {
            let name = try #require(label["image"]), text = try #require(label["text"])
            try FileManager.default.copyItem(at: samples.appendingPathComponent(name), to: set.appendingPathComponent("images/\(name)"))
            // Two labels are wrong on purpose: whatever the reader reads there is a wrong read.
            let labelled = i < 2 ? "ZZ" + String(text.dropFirst(2)) : text
            lines.append(#"{"image": "images/\#(name)", "crop": true, "plates": [{"text": "\#(labelled)", "box": [0, 0, 1, 1]}]}"#)
        }
        try lines.joined(separator: "\n").write(to: set.appendingPathComponent("labels.jsonl"), atomically: true, encoding: .utf8)
        let scores = dir.appendingPathComponent("scores.jsonl")
        let binary = try H.platestreamBinary()
        let r = try await H.offPool {
            try H.runProcess(binary, ["eval", set.path, "--models", Self.models, "--workers", "1",
                                      "--config", #"{"threshold_o":0}"#, "--scores", scores.path])
        }
        #expect(r.status == 0, "\(r.stderr.suffix(1000))")

        // The reads as the run logged them, one line each.
        let reads = try String(contentsOf: scores, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let pairs = try reads.map { (try #require($0["score"] as? Double), try #require($0["right"] as? Bool)) }
        #expect(pairs.count >= 10, "most of the 12 crops give a read")
        #expect(pairs.filter { !$0.1 }.count >= 2, "the two wrong labels make wrong reads")

        // The printed table, recomputed from those reads.
        let out = r.stdout.split(separator: "\n").map(String.init)
        // Under the row, the models' runs per picture: crops are read as they are (no first pass, no look), each once at
        // least and at most once per crop margin (the standard one and two extra).
        let runs = try #require(out.first { $0.contains("model runs per image:") })
        let counts = runs.components(separatedBy: ":")[1].split(separator: ",").compactMap { Double($0.split(separator: " ").last ?? "") }
        #expect(counts.count == 3 && counts[0] == 0 && counts[1] == 0, "\(runs)")
        #expect(counts.count == 3 && (1...3).contains(counts[2]), "\(runs)")
        let start = try #require(out.firstIndex { $0.hasPrefix("calibration of tiny") })
        #expect(out[start + 1].hasPrefix("score"))
        var ece = 0.0
        for b in 0..<10 {
            let inBin = pairs.filter { min(9, Int(($0.0 * 10).rounded(.down))) == b }
            let fields = out[start + 2 + b].split(separator: " ").map(String.init)
            #expect(fields[0] == String(format: "%.1f-%.1f", Double(b) / 10, Double(b + 1) / 10))
            #expect(Int(fields[1]) == inBin.count, "bin \(b)")
            #expect(Int(fields[2]) == inBin.filter(\.1).count, "bin \(b)")
            guard !inBin.isEmpty else { #expect(fields[3] == "-"); continue }
            let fraction = Double(inBin.filter(\.1).count) / Double(inBin.count)
            let mean = inBin.map(\.0).reduce(0, +) / Double(inBin.count)
            #expect(fields[3] == String(format: "%.3f", fraction), "bin \(b)")
            #expect(fields[4] == String(format: "%.3f", mean), "bin \(b)")
            ece += Double(inBin.count) / Double(pairs.count) * abs(fraction - mean)
        }
        let right = pairs.filter(\.1).count
        #expect(out[start + 12] == String(format: "reads %d, right %d, expected calibration error %.3f", pairs.count, right, ece))
        let kept = pairs.filter { $0.0 >= 0.6 }
        #expect(out[start + 13] == "threshold_o 0.60: right reads kept \(kept.filter(\.1).count), dropped \(right - kept.filter(\.1).count); "
                + "wrong reads kept \(kept.filter { !$0.1 }.count), dropped \(pairs.count - right - kept.filter { !$0.1 }.count)")
    }

    /// `--margin-shift` moves every crop margin the reader gets: the same crops read with margins 0.3 wider give other
    /// scores; a shift out of range is refused with a message that names the option.
    @Test func marginShiftChangesTheCropsTheReaderGets() async throws {
        let dir = try H.temporaryDirectory("eval-margin-shift")
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = dir.appendingPathComponent("shift")
        try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
        let samples = H.repositoryRoot.appendingPathComponent("Samples/plates")
        let all = try String(contentsOf: samples.appendingPathComponent("labels.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        let picked = all.filter { $0["style"] == "us" }
        #expect(picked.count == 4)
        let lines = try picked.map { label in
            let name = try #require(label["image"]), text = try #require(label["text"])
            try FileManager.default.copyItem(at: samples.appendingPathComponent(name), to: set.appendingPathComponent(name))
            return #"{"image": "\#(name)", "crop": true, "plates": [{"text": "\#(text)", "box": [0, 0, 1, 1]}]}"#
        }
        try lines.joined(separator: "\n").write(to: set.appendingPathComponent("labels.jsonl"), atomically: true, encoding: .utf8)
        let binary = try H.platestreamBinary()
        func scores(_ shift: String) async throws -> [Double] {
            let file = dir.appendingPathComponent("scores\(shift).jsonl")
            let r = try await H.offPool {
                try H.runProcess(binary, ["eval", set.path, "--models", Self.models, "--workers", "1", "--margin-shift", shift,
                                          "--config", #"{"threshold_o":0}"#, "--scores", file.path])
            }
            #expect(r.status == 0, "\(r.stderr.suffix(1000))")
            return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map {
                try #require((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["score"] as? Double)
            }
        }
        let (plain, shifted) = (try await scores("0"), try await scores("0.3"))
        #expect(plain.count == 4 && shifted.count == 4)
        #expect(plain != shifted, "\(plain) vs \(shifted)")
        let bad = try await H.offPool { try H.runProcess(binary, ["eval", set.path, "--margin-shift", "0.9"]) }
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--margin-shift must be"), "\(bad.stderr)")
    }
}
