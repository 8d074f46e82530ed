internal import COpenCV
import Foundation

/// Why a model could not be loaded or run.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    private enum Kind: Equatable { case missing, unloadable, mismatch, inference }
    private let kind: Kind
    /// What went wrong, naming the model file.
    public let message: String

    /// The model file does not exist.
    public static func missing(_ path: String) -> ModelError { .init(kind: .missing, message: "model file not found: \(path)") }
    /// The file exists but OpenCV cannot load it as an ONNX network.
    public static func unloadable(_ path: String, _ detail: String) -> ModelError {
        .init(kind: .unloadable, message: "cannot load model \(path): \(detail)")
    }
    /// The model loads but its inputs or outputs do not fit the format it was configured as.
    public static func mismatch(_ path: String, _ detail: String) -> ModelError {
        .init(kind: .mismatch, message: "model \(path) does not fit: \(detail)")
    }
    /// Running the model failed.
    public static func inference(_ detail: String) -> ModelError { .init(kind: .inference, message: "inference failed: \(detail)") }

    /// The message.
    public var description: String { message }
}

/// A float32 tensor: shape and values, row-major.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Values, row-major.
    public var values: [Float]
    /// A tensor of `shape` holding `values` (`values.count` must equal the product of `shape`).
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "tensor shape does not match its values")
        self.shape = shape
        self.values = values
    }
}

/// Runs a COpenCV call, turning a non-zero status into `ModelError.inference` with OpenCV's message.
func checkNet(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ModelError) {
    var buffer = [CChar](repeating: 0, count: 1024)
    let status = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    guard status != 0 else { return }
    throw .inference(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
}

/// An ONNX network run by OpenCV's dnn module on the CPU.
///
/// Not thread-safe (cv::dnn::Net keeps per-run state): each owner uses it from one thread at a time.
public final class OpenCVNet {
    private let handle: OpaquePointer
    /// The file it was loaded from.
    public let path: String

    /// Loads an ONNX file; throws `.missing` or `.unloadable` with OpenCV's reason.
    public init(path: String) throws(ModelError) {
        guard FileManager.default.fileExists(atPath: path) else { throw .missing(path) }
        var handle: OpaquePointer? = nil
        do {
            try checkNet { copencv_net_load(path, &handle, $0, $1) }
        } catch {
            throw .unloadable(path, error.message.replacingOccurrences(of: "inference failed: ", with: ""))
        }
        self.handle = handle!
        self.path = path
    }

    deinit { copencv_net_free(handle) }

    /// Sets how many threads OpenCV may use, process-wide (0 = OpenCV's default).
    public static func setThreadCount(_ n: Int) { copencv_set_num_threads(Int32(n)) }

    /// Number of outputs the network produces.
    public var outputCount: Int { Int(copencv_net_output_count(handle)) }

    /// Runs the network on a float32 input of `shape` and returns every output.
    public func forward(_ input: UnsafeBufferPointer<Float>, shape: [Int]) throws(ModelError) -> [Tensor] {
        precondition(input.count == shape.reduce(1, *), "input size does not match its shape")
        let dims = shape.map { Int32($0) }
        try checkNet { err, len in
            dims.withUnsafeBufferPointer { copencv_net_forward(handle, input.baseAddress, $0.baseAddress, Int32(dims.count), err, len) }
        }
        return try outputs()
    }

    /// Runs the network on a uint8 input of `shape` (e.g. NHWC images) and returns every output.
    public func forward(bytes input: UnsafeBufferPointer<UInt8>, shape: [Int]) throws(ModelError) -> [Tensor] {
        precondition(input.count == shape.reduce(1, *), "input size does not match its shape")
        let dims = shape.map { Int32($0) }
        try checkNet { err, len in
            dims.withUnsafeBufferPointer { copencv_net_forward_u8(handle, input.baseAddress, $0.baseAddress, Int32(dims.count), err, len) }
        }
        return try outputs()
    }

    private func outputs() throws(ModelError) -> [Tensor] {
        var result: [Tensor] = []
        for i in 0..<outputCount {
            var data: UnsafePointer<Float>? = nil
            var shape = [Int32](repeating: 0, count: 8)
            var ndims: Int32 = 0
            try checkNet { err, len in copencv_net_output(handle, Int32(i), &data, &shape, &ndims, err, len) }
            let dims = shape.prefix(Int(ndims)).map(Int.init)
            let count = dims.reduce(1, *)
            result.append(Tensor(shape: dims, values: Array(UnsafeBufferPointer(start: data, count: count))))
        }
        return result
    }
}
