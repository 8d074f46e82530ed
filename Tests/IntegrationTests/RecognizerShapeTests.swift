import Foundation
import PlateCore
import PlateVision
import Testing

private typealias H = DecodeHarness

/// The first pass's choice of input shape, the shaped detectors that ship in Models/, and the vote over crops.
@Suite struct RecognizerShapeTests {
    static var models: String { H.repositoryRoot.appendingPathComponent("Models").path }
    let inputs = [(width: 512, height: 512), (width: 512, height: 288), (width: 512, height: 384)]

    @Test func thePictureGetsTheSmallestInputThatHoldsItAtFullScale() {
        #expect(ONNXRecognizer.firstPassInput(width: 1280, height: 720, inputs: inputs) == 1)   // 16:9
        #expect(ONNXRecognizer.firstPassInput(width: 1920, height: 1080, inputs: inputs) == 1)
        #expect(ONNXRecognizer.firstPassInput(width: 1280, height: 960, inputs: inputs) == 2)   // 4:3
        #expect(ONNXRecognizer.firstPassInput(width: 1280, height: 1280, inputs: inputs) == 0)  // square
        #expect(ONNXRecognizer.firstPassInput(width: 720, height: 1280, inputs: inputs) == 0)   // portrait
        // 16:10 fits 512x288 at 90 % of the square input's scale only: too much lost, 4:3 it is.
        #expect(ONNXRecognizer.firstPassInput(width: 1024, height: 640, inputs: inputs) == 2)
        // A small picture is not blown up further than its own size needs.
        #expect(ONNXRecognizer.firstPassInput(width: 461, height: 346, inputs: inputs) == 2)
        #expect(ONNXRecognizer.firstPassInput(width: 300, height: 169, inputs: inputs) == 1)
        #expect(ONNXRecognizer.firstPassInput(width: 1280, height: 720, inputs: [inputs[0]]) == 0)
    }

    @Test func theBundledModelsShipTheShapedDetectorsAndTheyFindWhatTheSquareOneFinds() throws {
        let configuration = try RecognizerConfiguration.bundled(in: Self.models, workers: 1)
        let shapes = configuration.shapedDetectors.map { "\($0.configuration.inputWidth)x\($0.configuration.inputHeight)" }
        #expect(shapes == ["512x288", "512x384"])
        // A rendered US plate on a grey 1280x720 frame, well left of the centre.
        let crop = try ImageCodec.decode(Data(contentsOf: H.repositoryRoot.appendingPathComponent("Samples/plates/us_00.jpg")))
        let frame = Image(width: 1280, height: 720, format: .bgr24)
        memset(frame.buffer.bytes, 96, frame.buffer.count)
        let x0 = 300, y0 = 400
        for y in 0..<crop.height {
            memcpy(frame.buffer.bytes + (y0 + y) * frame.stride + x0 * 3, crop.buffer.bytes + y * crop.stride, crop.width * 3)
        }
        let truth = BoundingBox(xmin: Double(x0), ymin: Double(y0), xmax: Double(x0 + crop.width), ymax: Double(y0 + crop.height))
        let square = try ONNXPlateDetector(path: configuration.detector.path, configuration: configuration.detector.configuration)
        let wide = try ONNXPlateDetector(path: configuration.shapedDetectors[0].path, configuration: configuration.shapedDetectors[0].configuration)
        let a = try #require(try square.detect(in: frame, threshold: 0.6).first)
        let b = try #require(try wide.detect(in: frame, threshold: 0.6).first)
        #expect(a.box.iou(truth) > 0.6, "square: \(a.box)")
        #expect(b.box.iou(truth) > 0.6, "512x288: \(b.box)")
        #expect(a.box.iou(b.box) > 0.8)
    }

    func read(_ text: String, _ score: Double) -> PlateRead {
        PlateRead(text: text, score: score, candidates: [PlateCandidate(text: text, score: score)],
                  detectionScore: 0.9, box: BoundingBox(xmin: 0, ymin: 0, xmax: 10, ymax: 5))
    }

    @Test func theTextMostCropsReadWinsAndTheOthersBecomeCandidates() throws {
        let a = try #require(ONNXRecognizer.vote([read("7ABC123", 0.7), read("7A8C123", 0.95), read("7ABC123", 0.8)]))
        #expect(a.text == "7ABC123")
        #expect(a.score == 0.8)
        #expect(a.candidates.map(\.text) == ["7ABC123", "7A8C123"])
        // No majority: the best score.
        let b = try #require(ONNXRecognizer.vote([read("AAA111", 0.6), read("AAA1111", 0.9), read("AA111", 0.7)]))
        #expect(b.text == "AAA1111")
        #expect(ONNXRecognizer.vote([read("AAA111", 0.6), read("AAA1111", 0.9)], limit: 1)?.candidates.count == 1)
        #expect(ONNXRecognizer.vote([]) == nil as PlateRead?)
    }
}
