import ArgumentParser
import Foundation
import PlateCore
import PlateVision

/// `platestream eval <dataset-dir>...`: measures detection and reading on labelled images
/// (`labels.jsonl` in the ../shared/datasets format) and prints the figures per set.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure detection rate, exact read rate, false positives and speed on labelled image sets.",
        discussion: """
        Each DIR holds labels.jsonl (one JSON object per image: image, width, height, crop, plates[{text, box}]) \
        and the images it names. A plate counts as detected when a found box has IoU >= 0.3 with it or contains \
        its centre; as read when that box's text equals the label; "folded" compares with O->0 and I->1. \
        Times are per image for recognition alone (models loaded once, image decoding not included). \
        After the figures, a calibration table per set: the reads of labelled plates by score bin (0-0.1 ... 0.9-1), \
        each bin's fraction read exactly right against its mean score, the expected calibration error, and which \
        right and wrong reads threshold_o 0.6 would keep and drop (run with {"threshold_o":0} to see every read).
        """
    )

    @Argument(help: "Dataset folders, each with labels.jsonl.")
    var datasets: [String]

    @OptionGroup var models: ModelOptions

    @Option(name: .customLong("regions"), help: "Region hint for every image (repeatable), as a user would pass it, e.g. --regions br.")
    var regions: [String] = []

    @Option(help: "Candidates per plate for the top-N rate.")
    var topn: Int = 10

    @Option(name: .customLong("config"), help: "Engine configuration JSON, as for `read`.")
    var configJSON: String?

    @Flag(help: "Print one JSON object per set instead of a table.")
    var json = false

    @Option(name: .customLong("misses"), help: "Write every miss (expected vs read) as JSON lines to this file.")
    var missesPath: String?

    @Option(name: .customLong("scores"), help: "Write every labelled read (score, right or not, text, template fit) as JSON lines to this file (what scripts/calibrate fits).")
    var scoresPath: String?

    @Option(name: .customLong("margin-shift"), help: "Add this fraction of the plate's size to every crop margin the reader gets (the standard crop and the extra ones), e.g. -0.02 or 0.04: how much the reads hang on where a box's edges fall (issue 16's robustness figure: us exact across shifts -0.02 ... 0.06).")
    var marginShift: Double = 0

    /// The read threshold the calibration table's last line judges: Plate Recognizer's `threshold_o` of 0.6.
    static let judgedThreshold = 0.6

    func validate() throws {
        guard !datasets.isEmpty else { throw ValidationError("give at least one dataset folder") }
        guard (1...1000).contains(topn) else { throw ValidationError("--topn must be 1...1000") }
        guard marginShift.isFinite, (-0.05...0.5).contains(marginShift) else { throw ValidationError("--margin-shift must be -0.05...0.5") }
        for region in regions where !RegionTemplates.isKnown(region) {
            throw ValidationError("unknown region '\(region)' (e.g. us, us-ca, eu, de, br, kr, cn)")
        }
    }

    struct Label: Decodable {
        struct Plate: Decodable { let text: String?; let box: [Double] }
        let image: String
        let crop: Bool?
        let plates: [Plate]
    }

    func run() throws {
        let shift = marginShift
        let recognizer = try models.makeRecognizer { configuration in
            guard shift != 0 else { return }
            configuration.cropMargin += shift
            configuration.extraCrops = configuration.extraCrops.map { (x: $0.x + shift, y: $0.y + shift) }
        }
        var options = try EngineConfig.parse(configJSON).apply(to: RecognitionOptions())
        options.topN = topn
        if !regions.isEmpty { options.regions = regions }
        var missLog: FileHandle?
        if let missesPath {
            FileManager.default.createFile(atPath: missesPath, contents: nil)
            missLog = FileHandle(forWritingAtPath: missesPath)
        }
        defer { try? missLog?.close() }
        var scoreLog: FileHandle?
        if let scoresPath {
            FileManager.default.createFile(atPath: scoresPath, contents: nil)
            scoreLog = FileHandle(forWritingAtPath: scoresPath)
        }
        defer { try? scoreLog?.close() }
        if !json {
            print("set        images  detected  exact   folded  top-N   FP/img  median ms  p90 ms")
        }
        var tables: [(name: String, table: ReliabilityTable)] = []
        for dir in datasets {
            let stats = try evaluate(dir, recognizer: recognizer, options: options, missLog: missLog, scoreLog: scoreLog)
            if json {
                let data = try JSONSerialization.data(withJSONObject: stats.json, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(stats.row)
                print(stats.runsLine)
            }
            tables.append((stats.name, stats.reliability))
        }
        if !json {
            for (name, table) in tables {
                print("\ncalibration of \(name): labelled reads by score")
                print(table.report(threshold: Self.judgedThreshold))
            }
        }
    }

    /// The calibration table as JSON: bins, error, the judged threshold's outcome.
    static func json(_ table: ReliabilityTable) -> [String: Any] {
        let o = table.outcome(threshold: judgedThreshold)
        return [
            "bins": table.bins.map { bin -> [String: Any] in
                ["lower": bin.lower, "upper": bin.upper, "count": bin.count, "right": bin.right,
                 "fraction_right": bin.fractionRight ?? NSNull(), "mean_score": bin.meanScore ?? NSNull()]
            },
            "reads": table.count, "right": table.right,
            "expected_calibration_error": table.expectedCalibrationError,
            "threshold": ["threshold_o": o.threshold, "right_kept": o.rightKept, "right_dropped": o.rightDropped,
                          "wrong_kept": o.wrongKept, "wrong_dropped": o.wrongDropped],
        ]
    }

    struct SetStats {
        var name = ""
        var images = 0, plates = 0, textPlates = 0, detected = 0, exact = 0, folded = 0, topN = 0, falsePositives = 0
        var milliseconds: [Double] = [], detectMilliseconds: [Double] = [], readMilliseconds: [Double] = []
        /// The models' runs over the set (the speed figure that does not hang on the machine's load).
        var runs = ONNXRecognizer.ModelRuns()
        /// The reads of labelled plates (those found and read), by score.
        var reliability = ReliabilityTable()

        func percent(_ n: Int, of d: Int) -> Double { d == 0 ? 0 : (Double(n) / Double(d) * 1000).rounded() / 10 }
        func quantile(_ q: Double, of values: [Double]? = nil) -> Double {
            let s = (values ?? milliseconds).sorted()
            guard !s.isEmpty else { return 0 }
            return (s[min(s.count - 1, Int((Double(s.count - 1) * q).rounded()))] * 10).rounded() / 10
        }
        var json: [String: Any] {
            ["set": name, "images": images, "plates": plates, "detection_rate": percent(detected, of: plates),
             "exact_rate": percent(exact, of: textPlates), "exact_folded_rate": percent(folded, of: textPlates),
             "topn_rate": percent(topN, of: textPlates),
             "false_positives_per_image": images == 0 ? 0 : (Double(falsePositives) / Double(images) * 100).rounded() / 100,
             "median_ms": quantile(0.5), "p90_ms": quantile(0.9),
             "median_detect_ms": quantile(0.5, of: detectMilliseconds), "median_read_ms": quantile(0.5, of: readMilliseconds),
             "runs_per_image": ["first_pass": perImage(runs.firstPass), "looks": perImage(runs.looks), "reads": perImage(runs.reads)],
             "calibration": EvalCommand.json(reliability)]
        }
        func perImage(_ n: Int) -> Double { images == 0 ? 0 : (Double(n) / Double(images) * 100).rounded() / 100 }
        /// The models' runs per picture, under the row.
        var runsLine: String {
            String(format: "%-10@ model runs per image: first pass %.2f, looks %.2f, crops read %.2f", "" as NSString,
                   perImage(runs.firstPass), perImage(runs.looks), perImage(runs.reads))
        }
        var row: String {
            let fp = images == 0 ? 0 : Double(falsePositives) / Double(images)
            return String(format: "%-10@ %6d  %7.1f%%  %5.1f%%  %5.1f%%  %5.1f%%  %6.2f  %9.1f  %6.1f",
                          name as NSString, images, percent(detected, of: plates), percent(exact, of: textPlates),
                          percent(folded, of: textPlates), percent(topN, of: textPlates), fp, quantile(0.5), quantile(0.9))
        }
    }

    static func fold(_ s: String) -> String {
        String(s.map { $0 == "O" ? "0" : $0 == "I" ? "1" : $0 })
    }

    func evaluate(_ dir: String, recognizer: ONNXRecognizer, options: RecognitionOptions, missLog: FileHandle?,
                  scoreLog: FileHandle?) throws -> SetStats {
        let base = URL(fileURLWithPath: dir)
        let labelsURL = base.appendingPathComponent("labels.jsonl")
        guard let data = FileManager.default.contents(atPath: labelsURL.path) else {
            throw ValidationError("\(labelsURL.path) not found")
        }
        var stats = SetStats()
        stats.name = base.lastPathComponent
        let before = recognizer.modelRuns()
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let label = try decoder.decode(Label.self, from: Data(line))
            let imageData = try Data(contentsOf: base.appendingPathComponent(label.image))
            let image = try ImageCodec.decode(imageData)
            var opts = options
            opts.cropped = label.crop ?? false
            let start = DispatchTime.now()
            let result = try recognizer.recognize(image, options: opts)
            stats.milliseconds.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
            stats.detectMilliseconds.append(result.detectMilliseconds)
            stats.readMilliseconds.append(result.readMilliseconds)
            stats.images += 1
            var matched = Set<Int>()
            for plate in label.plates {
                stats.plates += 1
                let gt = BoundingBox(xmin: plate.box[0], ymin: plate.box[1], xmax: plate.box[2], ymax: plate.box[3])
                // The found plate that overlaps the label most (or contains its centre).
                let hit = result.plates.indices
                    .filter { !matched.contains($0) && (result.plates[$0].box.iou(gt) >= 0.3 || result.plates[$0].box.contains(gt.center)) }
                    .max { result.plates[$0].box.iou(gt) < result.plates[$1].box.iou(gt) }
                if let hit { matched.insert(hit); stats.detected += 1 }
                guard let text = plate.text else { continue }
                stats.textPlates += 1
                let read = hit.map { result.plates[$0] }
                if read?.text == text { stats.exact += 1 }
                if let read {
                    stats.reliability.add(score: read.score, right: read.text == text)
                    if let scoreLog {
                        let entry: [String: Any] = ["set": stats.name, "image": label.image, "expected": text, "read": read.text,
                                                    "score": read.score, "right": read.text == text,
                                                    "matches_template": read.matchesTemplate,
                                                    "least_character": read.characterScores.min() ?? NSNull(),
                                                    "region": read.region.map { ["code": $0.code, "score": $0.score] as [String: Any] } ?? NSNull()]
                        scoreLog.write(try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]) + Data("\n".utf8))
                    }
                }
                if let read, Self.fold(read.text) == Self.fold(text) { stats.folded += 1 }
                if let read, read.candidates.contains(where: { $0.text == text }) { stats.topN += 1 }
                if read?.text != text, let missLog {
                    let miss: [String: Any] = ["set": stats.name, "image": label.image, "expected": text,
                                               "read": read?.text ?? NSNull(), "detected": hit != nil,
                                               "candidates": read?.candidates.prefix(5).map(\.text) ?? []]
                    missLog.write(try JSONSerialization.data(withJSONObject: miss, options: [.sortedKeys]) + Data("\n".utf8))
                }
            }
            stats.falsePositives += result.plates.count - matched.count
        }
        let after = recognizer.modelRuns()
        stats.runs = ONNXRecognizer.ModelRuns(firstPass: after.firstPass - before.firstPass, looks: after.looks - before.looks,
                                              reads: after.reads - before.reads)
        return stats
    }
}
