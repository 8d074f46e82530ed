import ArgumentParser
import Foundation
import PlateVision

/// Where the recognizer's models come from: `--models DIR` (laid out like the repository's Models/).
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("models"), help: "Folder with detector/plate-detector.{onnx,json} and ocr/plate-reader.{onnx,json} (default: ./Models, else the one beside the executable's checkout).")
    var modelsDirectory: String?

    @Option(name: .customLong("workers"), help: "Model instances, i.e. images recognized at once (default: one per core).")
    var workers: Int?

    @Flag(name: .customLong("calibrated-scores"), help: "Map read scores to the probability of being right with the models folder's ocr/score-calibration.json (fitted on synthetic plates; holds for US plates, not Brazilian ones) before threshold_o.")
    var calibratedScores = false

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be 1 or more") }
    }

    /// The models folder: the option, else ./Models, else Models/ found walking up from the executable.
    func resolvedDirectory() throws -> String {
        if let modelsDirectory { return modelsDirectory }
        let fm = FileManager.default
        if fm.fileExists(atPath: "Models/detector") { return "Models" }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("Models")
            if fm.fileExists(atPath: candidate.appendingPathComponent("detector").path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        throw ValidationError("no Models/ folder found here or above the executable; pass --models DIR")
    }

    /// Loads the recognizer (every worker's models), failing with the model error's message. A config's
    /// `recognizer.detector` / `recognizer.reader` replace the bundled models (paths relative to `baseDirectory`).
    /// `adjust` changes the configuration last (eval's `--margin-shift`).
    func makeRecognizer(section: AppConfig.Recognizer? = nil, baseDirectory: String = ".",
                        adjust: (inout RecognizerConfiguration) -> Void = { _ in }) throws -> ONNXRecognizer {
        func resolve(_ file: String) -> String {
            file.hasPrefix("/") ? file : (baseDirectory as NSString).appendingPathComponent(file)
        }
        var configuration: RecognizerConfiguration
        let ownDetector = section?.detector, ownReader = section?.reader
        if ownDetector != nil && ownReader != nil {
            // Both replaced: the bundled models are not needed at all.
            configuration = RecognizerConfiguration(detector: (resolve(ownDetector!.path), ownDetector!.configuration),
                                                    reader: try Self.reader(ownReader!, resolve: resolve), workers: workers)
        } else {
            configuration = try RecognizerConfiguration.bundled(in: resolvedDirectory(), workers: workers)
            if let d = ownDetector { configuration.detector = (resolve(d.path), d.configuration); configuration.refiner = nil; configuration.secondLookRefiner = nil; configuration.shapedDetectors = [] }
            if let r = ownReader { configuration.reader = try Self.reader(r, resolve: resolve) }
        }
        if let v = section?.vehicleDetector { configuration.vehicleDetector = (resolve(v.path), v.configuration) }
        if section?.shapePrior == false { configuration.shapePrior = nil }
        if calibratedScores { configuration.scoreCalibration = try ScoreCalibration.bundled(in: resolvedDirectory()) }
        adjust(&configuration)
        return try ONNXRecognizer(configuration: configuration)
    }

    /// A reader from its config section: the flat keys, or a fast-plate-ocr YAML (`config`, else the model's
    /// name with .yaml beside it).
    static func reader(_ section: AppConfig.ReaderModelSection, resolve: (String) -> String)
        throws -> (path: String, configuration: ReaderModelConfiguration) {
        let path = resolve(section.path)
        if let flat = section.configuration { return (path, flat) }
        let yamlPath = section.config.map(resolve) ?? ((path as NSString).deletingPathExtension + ".yaml")
        guard let text = try? String(contentsOfFile: yamlPath, encoding: .utf8) else {
            throw ValidationError("recognizer.reader: no `format` keys and no plate config YAML at \(yamlPath)")
        }
        return (path, try ReaderModelConfiguration.fastPlateOCR(yaml: text))
    }
}
