import Foundation
import PlateCore
@testable import PlateVision
import Testing

private typealias H = DecodeHarness

/// A plate-look model (`Tests/Fixtures/plate-look.onnx`, trained on synthetic plates by scripts/train/region_train.py;
/// no model is bundled, since this one does not tell real plates apart) on the rendered sample plates, and what it
/// changes in a hint-free read: the region the read is given.
@Suite struct PlateLookTests {
    static var models: String { H.repositoryRoot.appendingPathComponent("Models").path }

    static func classifier() throws -> PlateLookClassifier {
        let base = fixturesDirectory.appendingPathComponent("plate-look").path
        let sidecar = try JSONDecoder().decode(PlateLookClassifier.Configuration.self, from: Data(contentsOf: URL(fileURLWithPath: base + ".json")))
        return try PlateLookClassifier(path: base + ".onnx", configuration: sidecar)
    }

    /// Every `Samples/plates` crop and its family (the file name's style prefix: `br_old_00.jpg` is `br`).
    static func samples() throws -> [(name: String, family: String, image: Image)] {
        let folder = H.repositoryRoot.appendingPathComponent("Samples/plates")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jpg") }.sorted().map {
            ($0, String($0.split(separator: "_")[0]), try ImageCodec.decode(Data(contentsOf: folder.appendingPathComponent($0))))
        }
    }

    @Test func theLookModelTellsEachFamilysSamplesApart() async throws {
        let samples = try Self.samples()
        // Model runs happen off the cooperative pool (2 threads on 2 cores), as every blocking test's work does. A
        // classifier is used by one thread at a time (its net is not thread-safe), so each run loads its own.
        let (families, probabilities, one) = try await H.offPool { () -> ([String], [[Double]], [Double]) in
            let look = try Self.classifier()
            return (look.configuration.families, try look.probabilities(samples.map(\.image)),
                    try look.probabilities([samples[0].image])[0])
        }
        var right: [String: (Int, Int)] = [:]
        for (sample, p) in zip(samples, probabilities) {
            #expect(abs(p.reduce(0, +) - 1) < 1e-3, "\(sample.name): probabilities sum to \(p.reduce(0, +))")
            let guess = families[p.indices.max { p[$0] < p[$1] }!]
            let (r, n) = right[sample.family] ?? (0, 0)
            right[sample.family] = (r + (guess == sample.family ? 1 : 0), n + 1)
            if guess != sample.family { print("look: \(sample.name) taken for \(guess) (\(p.map { String(format: "%.2f", $0) }))") }
        }
        // 4 samples of each one-line style and of each family's other styles; at most one miss in a family.
        for (family, (r, n)) in right.sorted(by: { $0.key < $1.key }) {
            #expect(r >= n - 1, "\(family): \(r) of \(n) samples told apart")
        }
        // One run for a batch gives what one run per crop gives.
        #expect(zip(one, probabilities[0]).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func regionWeightsFollowTheLookAndSumToOne() throws {
        let look = try Self.classifier()
        let families = look.configuration.families
        let pool = RegionTemplates.codes
        var brazil = [Double](repeating: 0, count: families.count)
        brazil[try #require(families.firstIndex(of: "br"))] = 1
        let w = look.regionWeights(brazil, pool: pool, uniform: 0.1)
        #expect(abs(w.values.reduce(0, +) - 1) < 1e-9)
        #expect(abs(w["br"]! - (0.9 + 0.1 / Double(pool.count))) < 1e-9)
        #expect(abs(w["us-ca"]! - 0.1 / Double(pool.count)) < 1e-9)
        // With hints in the pool only the pool's regions share the mass: a family with none of them gives its share
        // to the even spread.
        let hinted = look.regionWeights(brazil, pool: ["us-ca", "us-tx"], uniform: 0.1)
        #expect(hinted == ["us-ca": 0.5, "us-tx": 0.5])
    }

    /// Hint-free reads of the rendered Brazilian and US samples, cropped as uploads: with the look model a Brazilian
    /// read's region is Brazil; without it, a Brazilian LLL DDDD text goes to the country with the most regions that
    /// fit it (the US).
    @Test func aHintFreeReadGetsTheRegionItsPlateLooksLike() async throws {
        var configuration = try RecognizerConfiguration.bundled(in: Self.models, workers: 1)
        #expect(configuration.look == nil, "no look model is bundled")
        configuration.look = (fixturesDirectory.appendingPathComponent("plate-look.onnx").path, try Self.classifier().configuration)
        let withLookModel = configuration
        // Loading and recognizing block: off the cooperative pool.
        let (looked, plain) = try await H.offPool { () -> ([String: (Int, Int)], [String: (Int, Int)]) in
            var plainConfiguration = withLookModel
            plainConfiguration.look = nil
            plainConfiguration.shapePrior = nil    // the look against nothing, not against the plate's shape
            let withLook = try ONNXRecognizer(configuration: withLookModel), without = try ONNXRecognizer(configuration: plainConfiguration)
            var options = RecognitionOptions()
            options.cropped = true
            var looked: [String: (Int, Int)] = [:], plain: [String: (Int, Int)] = [:]
            for sample in try Self.samples() where ["br", "us"].contains(sample.family) {
                for (recognizer, usesLook) in [(withLook, true), (without, false)] {
                    let read = try recognizer.recognize(sample.image, options: options).plates.first
                    let hit = read.map { RegionTemplates.country(of: $0.region?.code ?? "") } == sample.family ? 1 : 0
                    let (r, n) = (usesLook ? looked : plain)[sample.family] ?? (0, 0)
                    if usesLook { looked[sample.family] = (r + hit, n + 1) } else { plain[sample.family] = (r + hit, n + 1) }
                }
            }
            return (looked, plain)
        }
        print("hint-free regions right, with the look / without: \(looked) / \(plain)")
        // Some samples' reads fit no Brazilian template (two-line motorcycle plates, a misread character): the look
        // cannot make those Brazilian. The rest it does; without it almost none is.
        let br = try #require(looked["br"]), us = try #require(looked["us"])
        let plainBR = plain["br"]?.0 ?? 0, plainUS = plain["us"]?.0 ?? 0
        #expect(br.0 * 2 >= br.1, "Brazilian samples given br: \(br.0) of \(br.1)")
        #expect(br.0 >= plainBR + 4, "the look gives br to \(br.0) Brazilian samples, against \(plainBR) without it")
        #expect(us.0 >= plainUS, "the look costs no US sample its state: \(us.0) against \(plainUS)")
    }
}
