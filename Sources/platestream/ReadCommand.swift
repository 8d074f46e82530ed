import ArgumentParser
import Foundation
import PlateCore
import PlateHTTP
import PlateVision

/// `platestream read <image|dir>...`: one Plate Recognizer snapshot response per image, as JSON Lines.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read the plates in images and print one Plate Recognizer snapshot response per image (JSON Lines).",
        discussion: """
        Images: JPEG, PNG, BMP, TIFF, WebP; folders are read in name order (not recursively). An image that \
        cannot be read gets an error line on stderr and the exit status is 1, after every other image was read.
        """
    )

    @Argument(help: "Image files or folders of images.")
    var paths: [String]

    @Option(name: .customLong("regions"), help: "Region hint (repeatable), e.g. --regions us-ca --regions br.")
    var regions: [String] = []

    @Option(help: "Candidates per plate, 1...1000.")
    var topn: Int = 10

    @Option(name: .customLong("config"), help: #"Engine configuration JSON, e.g. '{"mode":"fast","region":"strict"}'."#)
    var configJSON: String?

    @Flag(help: "Add vehicle make/model, colour and orientation fields (empty unless a model for them is configured).")
    var mmc = false

    @Flag(help: "Each image is already a plate crop: read it whole (OpenALPR's is_cropped).")
    var cropped = false

    @Option(help: "camera_id to put in the responses.")
    var cameraID: String?

    @OptionGroup var models: ModelOptions

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp"]

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one image or folder") }
        guard (1...1000).contains(topn) else { throw ValidationError("--topn must be 1...1000") }
        for region in regions where !RegionTemplates.isKnown(region) {
            throw ValidationError("unknown region \"\(region)\" (e.g. us-ca, us, eu, de, br, kr, cn)")
        }
        do { _ = try EngineConfig.parse(configJSON) } catch { throw ValidationError("--config: \(error)") }
    }

    /// The image files named, folders expanded (sorted, images only).
    func imageFiles() throws -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("\(path): no such file or folder") }
            if isDirectory.boolValue {
                let entries = try fm.contentsOfDirectory(atPath: path).sorted()
                    .filter { Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                guard !entries.isEmpty else { throw ValidationError("\(path): no images in this folder") }
                files += entries.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }

    func run() throws {
        let files = try imageFiles()
        let recognizer = try models.makeRecognizer()
        var options = try EngineConfig.parse(configJSON).apply(to: RecognitionOptions())
        options.regions = regions
        options.topN = topn
        options.mmc = mmc
        options.cropped = cropped
        var failures = 0
        for file in files {
            let started = ContinuousClock.now
            do {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read the file") }
                let image = try ImageCodec.decode(data)
                let result = try recognizer.recognize(image, options: options)
                let json = SnapshotJSON.plateRecognizer(result, mmc: mmc, processing: ContinuousClock.now - started,
                                                        filename: (file as NSString).lastPathComponent, cameraID: cameraID,
                                                        timestamp: Date())
                print(json.serialized())
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("platestream read: \(file): \(error)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
