import ArgumentParser
import Foundation
import PlateVision

/// Where the recognizer's models come from: `--models DIR` (laid out like the repository's Models/).
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("models"), help: "Folder with detector/plate-detector.{onnx,json} and ocr/plate-reader.{onnx,json} (default: ./Models, else the one beside the executable's checkout).")
    var modelsDirectory: String?

    @Option(name: .customLong("workers"), help: "Model instances, i.e. images recognized at once (default: one per core).")
    var workers: Int?

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

    /// Loads the recognizer (every worker's models), failing with the model error's message.
    func makeRecognizer() throws -> ONNXRecognizer {
        let configuration = try RecognizerConfiguration.bundled(in: resolvedDirectory(), workers: workers)
        return try ONNXRecognizer(configuration: configuration)
    }
}
