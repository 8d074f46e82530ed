import Testing
import Foundation
@testable import PlateVision

/// The repository's Tests/Fixtures folder.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

@Suite struct OpenCVNetTests {
    struct Expected: Decodable { let probs: [Float]; let gates: [Float] }

    @Test func matchesOnnxRuntime() throws {
        let net = try OpenCVNet(path: fixturesDirectory.appendingPathComponent("tiny-net.onnx").path)
        let expected = try JSONDecoder().decode(Expected.self,
            from: Data(contentsOf: fixturesDirectory.appendingPathComponent("tiny-net.expected.json")))
        let input = (0..<192).map { Float($0) / 192 }
        let outputs = try input.withUnsafeBufferPointer { try net.forward($0, shape: [1, 3, 8, 8]) }
        #expect(outputs.count == 2)
        let probs = try #require(outputs.first { $0.shape == [1, 5] })
        let gates = try #require(outputs.first { $0.shape == [1, 4] })
        for (a, b) in zip(probs.values, expected.probs) { #expect(abs(a - b) < 1e-4) }
        for (a, b) in zip(gates.values, expected.gates) { #expect(abs(a - b) < 1e-4) }
    }

    @Test func missingModelIsAClearError() {
        #expect(throws: ModelError.missing("/nonexistent/model.onnx")) { try OpenCVNet(path: "/nonexistent/model.onnx") }
    }

    @Test func corruptModelIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID()).onnx")
        try Data("this is not an onnx protobuf".utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        do {
            _ = try OpenCVNet(path: path.path)
            Issue.record("a corrupt model loaded")
        } catch {
            #expect(error.message.contains("cannot load model"))
            #expect(error.message.contains(path.lastPathComponent))
        }
    }

    @Test func wrongInputShapeThrowsInsteadOfCrashing() throws {
        let net = try OpenCVNet(path: fixturesDirectory.appendingPathComponent("tiny-net.onnx").path)
        let input = [Float](repeating: 0, count: 3 * 16 * 16)
        #expect(throws: ModelError.self) {
            try input.withUnsafeBufferPointer { try net.forward($0, shape: [1, 3, 16, 16]) }
        }
    }
}
