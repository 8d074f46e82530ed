import Foundation
public import PlateCore

/// What a plate's look says about where it is from (issue 16 item 6): a small CNN over the reader's colour crop gives
/// a probability per plate family (`us`, `eu`, `br`, `kr`, `cn`). Without `regions` hints the template prior then
/// weighs each region by its family's probability instead of spreading evenly over every region, the way a person
/// reads a grey Brazilian plate as Brazilian before reading its characters.
///
/// `Models/region/plate-look.onnx` with its sidecar `plate-look.json`:
/// `{"families": ["us", ...], "input_width": 100, "input_height": 30, "scale": 0.0039215686}`; the input is the
/// crop shrunk to that size (INTER_AREA), BGR, NCHW float32, times `scale`; the output `[N, families]` probabilities.
public final class PlateLookClassifier {
    /// The sidecar.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Family names in output order; each a region code `RegionTemplates.expand` knows (`us`, `eu`, `br`, ...).
        public var families: [String]
        /// Input width in pixels.
        public var inputWidth: Int
        /// Input height in pixels.
        public var inputHeight: Int
        /// Multiplier applied to 0...255 pixel values.
        public var scale: Float

        enum CodingKeys: String, CodingKey {
            case families, scale
            case inputWidth = "input_width"
            case inputHeight = "input_height"
        }
    }

    /// The sidecar's settings.
    public let configuration: Configuration
    /// Region weights and plate lengths of the families.
    let weights: FamilyWeights
    private let net: OpenCVNet

    /// Loads the model and checks with one run that it gives one probability per family.
    public init(path: String, configuration: Configuration) throws(ModelError) {
        guard !configuration.families.isEmpty, configuration.inputWidth > 0, configuration.inputHeight > 0 else {
            throw .mismatch(path, "the sidecar needs families and an input size")
        }
        for family in configuration.families where !RegionTemplates.isKnown(family) {
            throw .mismatch(path, "family \"\(family)\" is not a region code")
        }
        net = try OpenCVNet(path: path)
        self.configuration = configuration
        weights = FamilyWeights(families: configuration.families)
        let blank = Image(width: configuration.inputWidth, height: configuration.inputHeight, format: .bgr24)
        memset(blank.buffer.bytes, 0, blank.buffer.count)
        let out = try probabilities([blank])
        guard out.count == 1, out[0].count == configuration.families.count else {
            throw .mismatch(path, "its output does not have one value per family (\(configuration.families.count))")
        }
    }

    /// Each crop's family probabilities, in `configuration.families` order; one run of the model for all crops.
    public func probabilities(_ crops: [Image]) throws(ModelError) -> [[Double]] {
        guard !crops.isEmpty else { return [] }
        let w = configuration.inputWidth, h = configuration.inputHeight, plane = w * h
        var input = [Float](repeating: 0, count: crops.count * 3 * plane)
        for (k, crop) in crops.enumerated() {
            precondition(crop.format == .bgr24, "the look model takes BGR24 crops")
            let sized = try crop.resizedForModel(width: w, height: h)
            let src = sized.buffer.bytes.assumingMemoryBound(to: UInt8.self)
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 { input[k * 3 * plane + c * plane + y * w + x] = Float(src[y * sized.stride + 3 * x + c]) * configuration.scale }
                }
            }
        }
        let outputs = try input.withUnsafeBufferPointer { buffer throws(ModelError) in
            try net.forward(buffer, shape: [crops.count, 3, h, w])
        }
        guard let out = outputs.first, out.values.count == crops.count * configuration.families.count else {
            throw .inference("the look model's output has no \(crops.count) x \(configuration.families.count) probabilities")
        }
        let n = configuration.families.count
        return (0..<crops.count).map { k in (0..<n).map { Double(out.values[k * n + $0]) } }
    }

    /// The prior weight of each region of `pool` given a crop's family probabilities (`FamilyWeights.regionWeights`).
    public func regionWeights(_ probabilities: [Double], pool: [String], uniform: Double = 0.1) -> [String: Double] {
        weights.regionWeights(probabilities, pool: pool, uniform: uniform)
    }
}
