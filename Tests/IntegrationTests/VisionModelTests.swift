import Testing
import Foundation
import PlateCore
@testable import PlateVision

@Suite struct OutputDecodingTests {
    let identity = LetterboxTransform(scale: 1, padX: 0, padY: 0)
    let size = ImageSize(width: 640, height: 480)

    @Test func platestreamRowsMapBackThroughTheLetterbox() {
        let c = DetectorModelConfiguration(format: .platestream, inputWidth: 320, inputHeight: 320)
        // Two rows: one plate at (100, 50) size 40x10 in input pixels, one below threshold.
        var v = [Float](repeating: 0, count: 26)
        v[0] = 100; v[1] = 50; v[2] = 40; v[3] = 10; v[4] = 0.9
        v[5] = 80; v[6] = 45; v[7] = 120; v[8] = 45; v[9] = 120; v[10] = 55; v[11] = 80; v[12] = 55
        v[17] = 0.1
        let t = LetterboxTransform(scale: 0.5, padX: 0, padY: 10)              // input = original / 2 + (0, 10)
        let d = DetectorOutputDecoder.decode(Tensor(shape: [1, 2, 13], values: v), configuration: c, transform: t,
                                             imageSize: size, threshold: 0.5)
        #expect(d.count == 1)
        #expect(d[0].box == BoundingBox(xmin: 160, ymin: 70, xmax: 240, ymax: 90))
        #expect(d[0].corners?.topLeft == Point(x: 160, y: 70))
        #expect(d[0].corners?.bottomRight == Point(x: 240, y: 90))
        #expect(abs(d[0].score - 0.9) < 1e-6)
    }

    @Test func yoloBothLayoutsAndEndToEnd() {
        let c = DetectorModelConfiguration(format: .yolov8, inputWidth: 64, inputHeight: 64, labels: ["car", "plate"])
        // 3 anchors, channels first: rows cx, cy, w, h, car, plate.
        let channelsFirst: [Float] = [10, 20, 30,  10, 20, 30,  4, 4, 4,  2, 2, 2,  0.1, 0.8, 0.2,  0.7, 0.1, 0.05]
        let a = DetectorOutputDecoder.decode(Tensor(shape: [1, 6, 3], values: channelsFirst), configuration: c,
                                             transform: identity, imageSize: size, threshold: 0.5)
        #expect(a.map(\.classIndex) == [1, 0])
        #expect(a[0].box == BoundingBox(xmin: 8, ymin: 9, xmax: 12, ymax: 11))
        var rows = [Float](repeating: 0, count: 18)
        for i in 0..<3 { for j in 0..<6 { rows[i * 6 + j] = channelsFirst[j * 3 + i] } }
        let b = DetectorOutputDecoder.decode(Tensor(shape: [1, 3, 6], values: rows), configuration: c,
                                             transform: identity, imageSize: size, threshold: 0.5)
        #expect(a == b)
        #expect(DetectorOutputDecoder.shapeProblem([1, 6, 8400], configuration: c) == nil)
        #expect(DetectorOutputDecoder.shapeProblem([1, 84, 8400], configuration: c)?.contains("[1, 6, N]") == true)

        let e = DetectorModelConfiguration(format: .yoloEndToEnd, inputWidth: 64, inputHeight: 64)
        let e2e: [Float] = [1, 2, 11, 12, 0.95, 0,  5, 5, 6, 6, 0.01, 0]
        let d = DetectorOutputDecoder.decode(Tensor(shape: [1, 2, 6], values: e2e), configuration: e,
                                             transform: identity, imageSize: size, threshold: 0.25)
        #expect(d.count == 1 && d[0].box == BoundingBox(xmin: 1, ymin: 2, xmax: 11, ymax: 12))
    }

    @Test func ctcCollapsesRepeatsAndBlanksAndKeepsAlternatives() {
        let c = ReaderModelConfiguration(format: .ctc, inputWidth: 32, inputHeight: 16, colorMode: "grey", alphabet: "AB1")
        // classes: 0 blank, 1 A, 2 B, 3 1. Steps: A A blank A B(0.6 vs 1 0.4) blank
        let steps: [[Float]] = [[0.1, 0.9, 0, 0], [0.05, 0.95, 0, 0], [0.9, 0.1, 0, 0], [0, 1, 0, 0],
                                [0, 0, 0.6, 0.4], [1, 0, 0, 0]]
        let chars = ReaderOutputDecoder.decode(Tensor(shape: [1, 6, 4], values: steps.flatMap { $0 }), configuration: c)
        #expect(chars.map(\.best.character) == ["A", "A", "B"])
        #expect(abs(chars[0].best.probability - 0.95) < 1e-6)                 // peak of the first run
        #expect(chars[2].choices.map(\.character).prefix(2) == ["B", "1"])
        let top = CandidateCombiner.topN(chars, n: 3).map(\.text)
        #expect(top.prefix(2) == ["AAB", "AA1"])
    }

    @Test func anAllowedAlphabetTurnsDisallowedStepsBlank() {
        let c = ReaderModelConfiguration(format: .ctc, inputWidth: 32, inputHeight: 16, colorMode: "grey", alphabet: "AB가")
        // classes: 0 blank, 1 A, 2 B, 3 가. Steps: A, 가 (blank second), B.
        let steps: [[Float]] = [[0, 1, 0, 0], [0.3, 0, 0.1, 0.6], [0, 0, 1, 0]]
        let tensor = Tensor(shape: [1, 3, 4], values: steps.flatMap { $0 })
        #expect(ReaderOutputDecoder.decode(tensor, configuration: c).map(\.best.character) == ["A", "가", "B"])
        let latin = ReaderOutputDecoder.decode(tensor, configuration: c, allowed: Set("AB"))
        #expect(latin.map(\.best.character) == ["A", "B"])                   // not a made-up substitute for 가
        #expect(RegionTemplates.alphabet(of: RegionTemplates.expand("us")).isSubset(of: Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")))
        #expect(RegionTemplates.alphabet(of: ["kr"]).contains("가"))
    }

    @Test func fixedLengthCTCDecodingFindsAFaintCharacter() {
        let c = ReaderModelConfiguration(format: .ctc, inputWidth: 32, inputHeight: 16, colorMode: "grey", alphabet: "ABC")
        // classes: 0 blank, 1 A, 2 B, 3 C. Step 0 is a faint A under a stronger blank; B B blank C; then C again
        // after a blank (a real second C).
        let steps: [[Float]] = [[0.6, 0.4, 0, 0], [0.1, 0, 0.9, 0], [0.05, 0, 0.95, 0], [0.9, 0, 0, 0.1], [0.1, 0, 0, 0.9],
                                [0.8, 0, 0, 0.2], [0.2, 0, 0, 0.8]]
        let tensor = Tensor(shape: [1, 7, 4], values: steps.flatMap { $0 })
        #expect(ReaderOutputDecoder.decode(tensor, configuration: c).map(\.best.character) == ["B", "C", "C"])
        let four = ReaderOutputDecoder.decodeCTC(tensor, configuration: c, length: 4)
        #expect(four?.map(\.best.character) == ["A", "B", "C", "C"])
        #expect(abs((four?.first?.best.probability ?? 0) - 0.4) < 1e-6)
        // Shorter: the weakest character goes (the second C at 0.8 beats nothing; the first at 0.9 stays).
        #expect(ReaderOutputDecoder.decodeCTC(tensor, configuration: c, length: 2)?.map(\.best.character) == ["B", "C"])
        #expect(ReaderOutputDecoder.decodeCTC(tensor, configuration: c, length: 8) == nil)   // more than the steps
    }

    @Test func theTopAlternativesAreAStableSortsFirstOnes() {
        // Ties (a masked alphabet leaves many zeros) keep the alphabet's order, as a stable sort of the whole row does.
        let alphabet = Array("ABCDEFGHIJ")
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<200 {
            let row: [Float] = (0...alphabet.count).map { _ in trial % 2 == 0 ? Float(Int.random(in: 0...3, using: &rng)) / 4 : Float.random(in: 0...1, using: &rng) }
            let blank = Int.random(in: 0...alphabet.count, using: &rng)
            let count = Int.random(in: 1...12, using: &rng)
            var all: [(character: Character, probability: Float)] = []
            for (k, p) in row.enumerated() where k != blank { all.append((alphabet[k < blank ? k : k - 1], p)) }
            let sorted = Array(all.enumerated().sorted { ($0.element.probability, -$0.offset) > ($1.element.probability, -$1.offset) }.map(\.element).prefix(count))
            let top = ReaderOutputDecoder.topChoices(row, blank: blank, alphabet: alphabet, count: count)
            #expect(top.map(\.character) == sorted.map(\.character) && top.map(\.probability) == sorted.map(\.probability), "\(row) \(blank) \(count)")
        }
    }

    @Test func oneDecodeOfAnOutputGivesWhatSeparateDecodesGive() {
        let c = ReaderModelConfiguration(format: .ctc, inputWidth: 32, inputHeight: 16, colorMode: "grey", alphabet: "ABC12")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let steps = (0..<12).map { _ -> [Float] in
                let raw = (0..<6).map { _ in Float.random(in: 0...1, using: &rng) }
                return raw.map { $0 / raw.reduce(0, +) }
            }
            let tensor = Tensor(shape: [1, 12, 6], values: steps.flatMap { $0 })
            for allowed in [nil, Set<Character>("AB1")] {
                let joint = ReaderOutputDecoder.decodeCTC(tensor, configuration: c, lengths: [2, 4, 5], allowed: allowed)
                let greedy = ReaderOutputDecoder.decode(tensor, configuration: c, allowed: allowed)
                #expect(joint.greedy == greedy)
                let separate = [2, 4, 5].filter { $0 != greedy.count }.compactMap {
                    ReaderOutputDecoder.decodeCTC(tensor, configuration: c, length: $0, allowed: allowed)
                }
                #expect(joint.fixed == separate)
            }
        }
    }

    @Test func slotsDropPaddingAndApplySoftmaxToLogits() throws {
        let c = try ReaderModelConfiguration.fastPlateOCR(yaml: "max_plate_slots: 3\nalphabet: 'AB_'\npad_char: '_'\nimg_height: 8\nimg_width: 16\n")
        #expect(c.format == .slots && c.slots == 3 && c.colorMode == "grey")
        let logits: [Float] = [5, 0, 0,  0, 5, 0,  0, 0, 5]                   // A, B, pad
        let chars = ReaderOutputDecoder.decode(Tensor(shape: [1, 9], values: logits), configuration: c)
        #expect(chars.map(\.best.character) == ["A", "B"])
        #expect(chars[0].best.probability > 0.9 && chars[0].best.probability < 1)
        #expect(throws: ModelConfigurationError.self) { try ReaderModelConfiguration.fastPlateOCR(yaml: "alphabet: 'AB'\n") }
    }
}

@Suite struct ModelLoadingTests {
    func fixture(_ name: String) -> String { fixturesDirectory.appendingPathComponent(name).path }

    @Test func bringYourOwnYoloLoadsAndAMismatchIsNamed() throws {
        let ok = DetectorModelConfiguration(format: .yolov8, inputWidth: 64, inputHeight: 64, labels: ["plate"])
        let detector = try ONNXPlateDetector(path: fixture("yolo-like.onnx"), configuration: ok)
        let image = Image(width: 200, height: 100, format: .bgr24)
        memset(image.buffer.bytes, 200, image.buffer.count)
        let found = try detector.detect(in: image, threshold: 0.0)
        #expect(!found.isEmpty && found.allSatisfy { $0.box.xmax <= 200 && $0.box.ymax <= 100 })

        var twoLabels = ok
        twoLabels.labels = ["plate", "car"]
        #expect(throws: ModelError.mismatch(fixture("yolo-like.onnx"),
                                            "output is [1, 5, 84]; a YOLOv8 model with 2 label(s) gives [1, 6, N] or [1, N, 6]")) {
            try ONNXPlateDetector(path: fixture("yolo-like.onnx"), configuration: twoLabels)
        }
        let asOurs = DetectorModelConfiguration(format: .platestream, inputWidth: 64, inputHeight: 64)
        #expect(throws: ModelError.self) { try ONNXPlateDetector(path: fixture("yolo-like.onnx"), configuration: asOurs) }
        let e2e = DetectorModelConfiguration(format: .yoloEndToEnd, inputWidth: 64, inputHeight: 64)
        _ = try ONNXPlateDetector(path: fixture("e2e-like.onnx"), configuration: e2e)
    }

    @Test func readersInBothFormatsLoadAndRead() throws {
        let yaml = try String(contentsOfFile: fixture("fpo-like.yaml"), encoding: .utf8)
        let fpo = try ONNXPlateReader(path: fixture("fpo-like.onnx"), configuration: try .fastPlateOCR(yaml: yaml))
        let crop = Image(width: 120, height: 40, format: .bgr24)
        memset(crop.buffer.bytes, 128, crop.buffer.count)
        #expect(try fpo.read(crop).count <= 7)

        let ctc = ReaderModelConfiguration(format: .ctc, inputWidth: 32, inputHeight: 16, colorMode: "grey", alphabet: "0123456789")
        let reader = try ONNXPlateReader(path: fixture("ctc-like.onnx"), configuration: ctc)
        #expect(try reader.read(crop).count <= 8)

        var longer = ctc
        longer.alphabet = "0123456789X"
        #expect(throws: ModelError.self) { try ONNXPlateReader(path: fixture("ctc-like.onnx"), configuration: longer) }
        var asSlots = try ReaderModelConfiguration.fastPlateOCR(yaml: yaml)
        asSlots.slots = 9
        #expect(throws: ModelError.self) { try ONNXPlateReader(path: fixture("fpo-like.onnx"), configuration: asSlots) }
        #expect(throws: ModelError.missing("/no/such/reader.onnx")) {
            try ONNXPlateReader(path: "/no/such/reader.onnx", configuration: ctc)
        }
    }

    /// The bundled reader takes a batch: several crops go through one run and each reads exactly as it does
    /// alone. A model exported with a fixed batch of 1 (the ctc-like fixture) reads them one run each.
    @Test func cropsAreReadInBatchesAsTheyReadAlone() throws {
        let models = DecodeHarness.repositoryRoot.appendingPathComponent("Models").path
        let bundled = try RecognizerConfiguration.bundled(in: models, workers: 1).reader
        let reader = try ONNXPlateReader(path: bundled.path, configuration: bundled.configuration)
        #expect(reader.batchSize == ONNXPlateReader.maximumBatch)
        let samples = DecodeHarness.repositoryRoot.appendingPathComponent("Samples/plates")
        let names = try FileManager.default.contentsOfDirectory(atPath: samples.path).filter { $0.hasSuffix(".jpg") }.sorted()
        // More crops than one batch holds, so that the batches are split too.
        let crops = try names.prefix(ONNXPlateReader.maximumBatch + 3).map {
            try ImageCodec.decode(try Data(contentsOf: samples.appendingPathComponent($0)))
        }
        #expect(crops.count == ONNXPlateReader.maximumBatch + 3)
        let batched = try reader.read(crops, allowed: nil, lengths: [6, 7])
        #expect(batched.count == crops.count)
        for (crop, together) in zip(crops, batched) {
            let alone = try reader.read(crop, allowed: nil, lengths: [6, 7])
            #expect(together.greedy.map(\.best.character) == alone.greedy.map(\.best.character))
            #expect(zip(together.greedy, alone.greedy).allSatisfy { abs($0.best.probability - $1.best.probability) < 1e-4 })
            #expect(together.fixed.map { $0.map(\.best.character) } == alone.fixed.map { $0.map(\.best.character) })
        }
        // Different crops read differently: the batch did not hand every crop the first one's output.
        #expect(Set(batched.map { String($0.greedy.map(\.best.character)) }).count > crops.count / 2)

        let ctc = ReaderModelConfiguration(format: .ctc, inputWidth: 32, inputHeight: 16, colorMode: "grey", alphabet: "0123456789")
        let single = try ONNXPlateReader(path: fixture("ctc-like.onnx"), configuration: ctc)
        #expect(single.batchSize == 1)
        let three = try single.read(Array(crops.prefix(3)), allowed: nil, lengths: [])
        #expect(three.count == 3)
        for (crop, r) in zip(crops.prefix(3), three) {
            #expect(r.greedy.map(\.best.character) == (try single.read(crop)).map(\.best.character))
        }
    }

    @Test func cropFollowsTheCorners() throws {
        let ctc = ReaderModelConfiguration(format: .ctc, inputWidth: 32, inputHeight: 16, colorMode: "grey", alphabet: "0123456789")
        let reader = try ONNXPlateReader(path: fixture("ctc-like.onnx"), configuration: ctc)
        // A white rectangle on black; the crop through its corners (no margin) is white all over.
        let image = Image(width: 100, height: 60, format: .bgr24)
        memset(image.buffer.bytes, 0, image.buffer.count)
        for y in 20..<40 { memset(image.buffer.bytes + y * image.stride + 30 * 3, 255, 40 * 3) }
        let box = BoundingBox(xmin: 30, ymin: 20, xmax: 70, ymax: 40)
        let quad = Quad(topLeft: Point(x: 30, y: 20), topRight: Point(x: 70, y: 20),
                        bottomRight: Point(x: 70, y: 40), bottomLeft: Point(x: 30, y: 40))
        let crop = try reader.crop(image, box: box, corners: quad, margin: 0)
        #expect(crop.width == 32 && crop.height == 16)
        #expect(crop.pixel(x: 16, y: 8) == [255, 255, 255])
        #expect(crop.pixel(x: 2, y: 2)[0] > 200)
        // Implausible corners (a bow tie) are ignored in favour of the box.
        let bowTie = Quad(topLeft: Point(x: 30, y: 20), topRight: Point(x: 70, y: 40),
                          bottomRight: Point(x: 70, y: 20), bottomLeft: Point(x: 30, y: 40))
        #expect(!ONNXPlateReader.isPlausible(bowTie, box: box))
        #expect(ONNXPlateReader.isPlausible(quad, box: box))
    }
}

@Suite struct RegionResolverTests {
    let resolver = RegionResolver()

    @Test func hintsPreferAMatchingCandidateWithinTheMargin() {
        let c = [PlateCandidate(text: "ABCI234", score: 0.5), PlateCandidate(text: "ABC1234", score: 0.3)]
        let (r, verdict) = resolver.resolve(c, hints: ["br"], strict: false)
        #expect(r?.best.text == "ABC1234")
        #expect(r?.matchesTemplate == true && r?.region?.code == "br")
        #expect(r?.candidates.map(\.text) == ["ABC1234", "ABCI234"])
        if case .rejected = verdict { Issue.record("rejected") }
        // Far below the top candidate: the hint is ignored and the top text stays.
        let weak = [PlateCandidate(text: "ABCI234", score: 0.9), PlateCandidate(text: "ABC1234", score: 0.0005)]
        #expect(resolver.resolve(weak, hints: ["br"], strict: false).0?.best.text == "ABCI234")
    }

    @Test func strictDropsReadsWithoutTemplate() {
        let c = [PlateCandidate(text: "ABCI234", score: 0.9)]
        let (r, verdict) = resolver.resolve(c, hints: ["br"], strict: true)
        #expect(r == nil)
        guard case .rejected(let reason) = verdict else { Issue.record("accepted in strict mode"); return }
        #expect(reason.code == "no-template-match")
        #expect(resolver.resolve([PlateCandidate(text: "ABC1D34", score: 0.9)], hints: ["br"], strict: true).0 != nil)
    }

    @Test func scriptDecidesKoreaAndChina() {
        #expect(resolver.resolve([PlateCandidate(text: "123가4567", score: 0.9)], hints: [], strict: false).0?.region?.code == "kr")
        #expect(resolver.resolve([PlateCandidate(text: "京A12345", score: 0.9)], hints: [], strict: false).0?.region?.code == "cn")
    }
}

@Suite struct PlateColorTests {
    func solid(b: UInt8, g: UInt8, r: UInt8) -> Image {
        let image = Image(width: 40, height: 20, format: .bgr24)
        let p = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        for i in 0..<(40 * 20) { p[3 * i] = b; p[3 * i + 1] = g; p[3 * i + 2] = r }
        return image
    }

    @Test func classifiesPlateBackgrounds() {
        #expect(PlateColor.estimate(solid(b: 200, g: 80, r: 20)).label == "blue")
        #expect(PlateColor.estimate(solid(b: 20, g: 200, r: 230)).label == "yellow")
        #expect(PlateColor.estimate(solid(b: 90, g: 200, r: 60)).label == "green")
        #expect(PlateColor.estimate(solid(b: 240, g: 240, r: 240)).label == "white")
        #expect(PlateColor.estimate(solid(b: 10, g: 10, r: 10)).label == "black")
    }

    @Test func findsAMercosulBandOnTopOnly() {
        // A 160x48 reader crop with a 6 % margin: the plate spans rows 3...44.
        func crop(band: Int, bandColor: (UInt8, UInt8, UInt8), rest: (UInt8, UInt8, UInt8)) -> Image {
            let image = Image(width: 160, height: 48, format: .bgr24)
            let p = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
            for y in 0..<48 {
                let c = y < band ? bandColor : rest
                for x in 0..<160 { let o = y * image.stride + 3 * x; p[o] = c.0; p[o + 1] = c.1; p[o + 2] = c.2 }
            }
            return image
        }
        let blue: (UInt8, UInt8, UInt8) = (160, 60, 10), white: (UInt8, UInt8, UInt8) = (235, 235, 235)
        let grey: (UInt8, UInt8, UInt8) = (150, 150, 150)
        #expect(PlateColor.hasTopBlueBand(crop(band: 12, bandColor: blue, rest: white), marginY: 0.06))
        #expect(!PlateColor.hasTopBlueBand(crop(band: 12, bandColor: grey, rest: grey), marginY: 0.06))   // old grey plate
        #expect(!PlateColor.hasTopBlueBand(crop(band: 48, bandColor: blue, rest: blue), marginY: 0.06))   // a blue plate
        #expect(!PlateColor.hasTopBlueBand(crop(band: 30, bandColor: white, rest: blue), marginY: 0.06))  // blue below
    }
}

@Suite struct MotionVehicleDetectorTests {
    /// A grey frame with a red 120x80 box at `x`, and a little noise so the background model has variance.
    func frame(boxAt x: Int?, seed: Int) -> Image {
        let image = Image(width: 320, height: 240, format: .bgr24)
        let p = image.buffer.bytes.assumingMemoryBound(to: UInt8.self)
        var state = UInt32(truncatingIfNeeded: seed * 7919 + 1)
        for i in 0..<(image.stride * image.height) {
            state = state &* 1_103_515_245 &+ 12345
            p[i] = 100 &+ UInt8((state >> 16) % 5)
        }
        if let x {
            for y in 100..<180 { for xx in x..<(x + 120) { let o = y * image.stride + xx * 3; p[o] = 30; p[o + 1] = 30; p[o + 2] = 200 } }
        }
        return image
    }

    @Test func aMovingBoxIsFoundWithItsColourAndAStillBackgroundIsNot() throws {
        let detector = try MotionVehicleDetector()
        var found: [VehicleDetection] = []
        for i in 0..<30 {
            let vehicles = try detector.vehicles(in: frame(boxAt: i < 10 ? nil : 40 + (i - 10) * 6, seed: i),
                                                 at: MediaTime(value: Int64(i), timescale: 25))
            if i < 10 { #expect(vehicles.isEmpty, "frame \(i): \(vehicles)") }          // background only
            if i == 29 { found = vehicles }
        }
        let vehicle = try #require(found.first)
        #expect(found.count == 1)
        #expect(vehicle.type == .unknown)
        #expect(vehicle.color.first?.label == "red")
        let x = Double(40 + 19 * 6)
        #expect(abs(vehicle.box.xmax - (x + 120)) < 12 && abs(vehicle.box.ymin - 100) < 12 && abs(vehicle.box.ymax - 180) < 12,
                "\(vehicle.box)")
    }
}
