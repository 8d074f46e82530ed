import Foundation

/// How a detector ONNX model is fed and how its output is laid out.
///
/// Our own detector's sidecar (`Models/detector/plate-detector.json`) and the `detector` entry of
/// config.json both decode into this; unknown `format` values fail at start-up.
public struct DetectorModelConfiguration: Codable, Sendable, Equatable {
    /// Output layouts PlateStream understands.
    public enum Format: String, Codable, Sendable, CaseIterable {
        /// PlateStream's detector: `[1, N, 13]` = cx, cy, w, h, score (after sigmoid), 4 corners x/y.
        case platestream
        /// Ultralytics YOLOv8/v9 raw head: `[1, 4 + classes, N]` (or transposed `[1, N, 4 + classes]`),
        /// cx, cy, w, h then per-class scores after sigmoid; NMS done here.
        case yolov8
        /// End-to-end export with NMS in the graph: `[1, N, 6]` = x1, y1, x2, y2, score, class.
        case yoloEndToEnd = "yolo-e2e"
    }

    /// Output layout.
    public var format: Format
    /// Model input width in pixels.
    public var inputWidth: Int
    /// Model input height in pixels.
    public var inputHeight: Int
    /// `bgr` or `rgb`.
    public var channelOrder: String
    /// Multiplier applied to 0...255 pixel values (1/255 for most models).
    public var scale: Float
    /// Letterbox placement: `center` (Ultralytics) or `top-left`.
    public var letterbox: String
    /// Letterbox padding grey level.
    public var padValue: Int
    /// Class names in output order; the class named `plate` (or every class, if none is) counts as a plate.
    public var labels: [String]
    /// The score the model was calibrated to keep (its card's threshold); the default `threshold_d` for it.
    public var scoreThreshold: Double?
    /// Boxes narrower than this many times their height are dropped (plates are wide); nil keeps all.
    public var minimumAspect: Double?

    /// Coding keys as written in the JSON files (snake case).
    enum CodingKeys: String, CodingKey {
        case format, labels, scale
        case inputWidth = "input_width", inputHeight = "input_height", channelOrder = "channel_order"
        case letterbox, padValue = "pad_value", scoreThreshold = "score_threshold", minimumAspect = "min_aspect"
    }

    /// Creates a configuration.
    public init(format: Format, inputWidth: Int, inputHeight: Int, channelOrder: String = "bgr",
                scale: Float = 1.0 / 255, letterbox: String = "top-left", padValue: Int = 114,
                labels: [String] = ["plate"], scoreThreshold: Double? = nil, minimumAspect: Double? = nil) {
        self.format = format
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.channelOrder = channelOrder
        self.scale = scale
        self.letterbox = letterbox
        self.padValue = padValue
        self.labels = labels
        self.scoreThreshold = scoreThreshold
        self.minimumAspect = minimumAspect
    }

    /// Decodes with defaults for missing optional keys (format and input size are required).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(Format.self, forKey: .format)
        inputWidth = try c.decode(Int.self, forKey: .inputWidth)
        inputHeight = try c.decode(Int.self, forKey: .inputHeight)
        channelOrder = try c.decodeIfPresent(String.self, forKey: .channelOrder) ?? (format == .platestream ? "bgr" : "rgb")
        scale = try c.decodeIfPresent(Float.self, forKey: .scale) ?? 1.0 / 255
        letterbox = try c.decodeIfPresent(String.self, forKey: .letterbox) ?? (format == .platestream ? "top-left" : "center")
        padValue = try c.decodeIfPresent(Int.self, forKey: .padValue) ?? 114
        labels = try c.decodeIfPresent([String].self, forKey: .labels) ?? ["plate"]
        scoreThreshold = try c.decodeIfPresent(Double.self, forKey: .scoreThreshold)
        minimumAspect = try c.decodeIfPresent(Double.self, forKey: .minimumAspect)
    }

    /// The 80 COCO class names in their usual order: the labels of a YOLO vehicle model by default.
    public static let cocoLabels: [String] = [
        "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
        "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant",
        "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
        "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
        "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli",
        "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet",
        "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
        "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
    ]

    /// Checks values that decode but make no sense; returns the problem, or nil.
    public func problem() -> String? {
        if inputWidth < 16 || inputHeight < 16 || inputWidth > 4096 || inputHeight > 4096 {
            return "input size \(inputWidth)x\(inputHeight) is outside 16...4096"
        }
        if !["bgr", "rgb"].contains(channelOrder) { return "channel_order must be bgr or rgb, not \(channelOrder)" }
        if !["center", "top-left"].contains(letterbox) { return "letterbox must be center or top-left, not \(letterbox)" }
        if labels.isEmpty { return "labels must name at least one class" }
        return nil
    }
}

/// How a plate-reader ONNX model is fed and how its output is decoded.
public struct ReaderModelConfiguration: Codable, Sendable, Equatable {
    /// Output layouts PlateStream understands.
    public enum Format: String, Codable, Sendable, CaseIterable {
        /// CTC: `[1, T, C]` per-step probabilities, class `blank` is the CTC blank, others index `alphabet`.
        case ctc
        /// fast-plate-ocr style: uint8 NHWC input, `[1, slots * alphabet]` or `[1, slots, alphabet]`
        /// probabilities, `pad_char` fills unused slots.
        case slots
    }

    /// Output layout.
    public var format: Format
    /// Input width in pixels.
    public var inputWidth: Int
    /// Input height in pixels.
    public var inputHeight: Int
    /// `grey` or `rgb` (`bgr` for our own models if ever needed).
    public var colorMode: String
    /// The characters, in class order (CTC: class i+1 is alphabet[i], 0 is blank unless `blank` says otherwise).
    public var alphabet: String
    /// CTC blank class index.
    public var blank: Int
    /// Slot models: the padding character in `alphabet`.
    public var padChar: String?
    /// Slot models: number of slots.
    public var slots: Int?
    /// Multiplier applied to 0...255 pixel values for float inputs.
    public var scale: Float

    /// Coding keys as written in the JSON files (snake case).
    enum CodingKeys: String, CodingKey {
        case format, alphabet, blank, slots, scale
        case inputWidth = "input_width", inputHeight = "input_height", colorMode = "color_mode", padChar = "pad_char"
    }

    /// Creates a configuration.
    public init(format: Format, inputWidth: Int, inputHeight: Int, colorMode: String, alphabet: String,
                blank: Int = 0, padChar: String? = nil, slots: Int? = nil, scale: Float = 1.0 / 255) {
        self.format = format
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.colorMode = colorMode
        self.alphabet = alphabet
        self.blank = blank
        self.padChar = padChar
        self.slots = slots
        self.scale = scale
    }

    /// Decodes with defaults for missing optional keys.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(Format.self, forKey: .format)
        inputWidth = try c.decode(Int.self, forKey: .inputWidth)
        inputHeight = try c.decode(Int.self, forKey: .inputHeight)
        colorMode = try c.decodeIfPresent(String.self, forKey: .colorMode) ?? "grey"
        alphabet = try c.decode(String.self, forKey: .alphabet)
        blank = try c.decodeIfPresent(Int.self, forKey: .blank) ?? 0
        padChar = try c.decodeIfPresent(String.self, forKey: .padChar)
        slots = try c.decodeIfPresent(Int.self, forKey: .slots)
        scale = try c.decodeIfPresent(Float.self, forKey: .scale) ?? 1.0 / 255
    }

    /// Reads a fast-plate-ocr plate config (YAML `key: value` lines: `max_plate_slots`, `alphabet`,
    /// `pad_char`, `img_height`, `img_width`, optional `image_color_mode` / `num_channels`).
    public static func fastPlateOCR(yaml text: String) throws -> ReaderModelConfiguration {
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let f = value.first, f == value.last, f == "'" || f == "\"" {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        func require(_ key: String) throws -> String {
            guard let v = values[key], !v.isEmpty else { throw ModelConfigurationError("plate config is missing `\(key)`") }
            return v
        }
        guard let slots = Int(try require("max_plate_slots")), let h = Int(try require("img_height")),
              let w = Int(try require("img_width")) else {
            throw ModelConfigurationError("max_plate_slots, img_height and img_width must be integers")
        }
        let channels = values["num_channels"].flatMap(Int.init)
        let mode = values["image_color_mode"] ?? (channels == 3 ? "rgb" : "grey")
        return ReaderModelConfiguration(format: .slots, inputWidth: w, inputHeight: h,
                                        colorMode: mode == "grayscale" ? "grey" : mode, alphabet: try require("alphabet"),
                                        padChar: try require("pad_char"), slots: slots, scale: 1)
    }

    /// Checks values that decode but make no sense; returns the problem, or nil.
    public func problem() -> String? {
        if inputWidth < 8 || inputHeight < 8 || inputWidth > 1024 || inputHeight > 1024 {
            return "input size \(inputWidth)x\(inputHeight) is outside 8...1024"
        }
        if !["grey", "rgb", "bgr"].contains(colorMode) { return "color_mode must be grey, rgb or bgr, not \(colorMode)" }
        if alphabet.isEmpty { return "alphabet is empty" }
        if Set(alphabet).count != alphabet.count { return "alphabet repeats a character" }
        switch format {
        case .ctc:
            if blank < 0 || blank > alphabet.count { return "blank index \(blank) is outside 0...\(alphabet.count)" }
        case .slots:
            guard let pad = padChar, pad.count == 1, alphabet.contains(pad) else { return "pad_char must be one character of the alphabet" }
            guard let s = slots, (1...32).contains(s) else { return "slots must be 1...32" }
        }
        return nil
    }
}

/// A model configuration that cannot be used.
public struct ModelConfigurationError: Error, CustomStringConvertible, Equatable {
    /// What is wrong.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// The model cards' sidecar JSON written by scripts/train (`input.shape`, `input.letterbox`, `alphabet`, ...).
/// Flat configurations (`format`, `input_width`, ...) are accepted too, so users' sidecars can be short.
struct TrainingSidecar: Decodable {
    struct Letterbox: Decodable { let align: String?; let pad_value: Int? }
    struct Postprocess: Decodable { let score_threshold: Double?; let min_aspect: Double? }
    struct Input: Decodable {
        let shape: [Int]
        let channel_order: String?
        let channels: String?
        let letterbox: Letterbox?
    }
    let input: Input
    let alphabet: String?
    let blank_index: Int?
    let postprocess: Postprocess?
}

extension DetectorModelConfiguration {
    /// Reads a detector sidecar in either the flat or the training-script layout.
    static func fromSidecar(_ data: Data, path: String) throws -> DetectorModelConfiguration {
        if let flat = try? JSONDecoder().decode(DetectorModelConfiguration.self, from: data) { return flat }
        do {
            let s = try JSONDecoder().decode(TrainingSidecar.self, from: data)
            guard s.input.shape.count == 4 else { throw ModelConfigurationError("input.shape must be [1, 3, H, W]") }
            return DetectorModelConfiguration(format: .platestream, inputWidth: s.input.shape[3], inputHeight: s.input.shape[2],
                                              channelOrder: (s.input.channel_order ?? "bgr").lowercased(),
                                              letterbox: s.input.letterbox?.align ?? "top-left",
                                              padValue: s.input.letterbox?.pad_value ?? 114,
                                              scoreThreshold: s.postprocess?.score_threshold,
                                              minimumAspect: s.postprocess?.min_aspect)
        } catch {
            throw ModelError.mismatch(path, "not a detector description: \(error)")
        }
    }
}

extension ReaderModelConfiguration {
    /// Reads a reader sidecar in either the flat or the training-script layout.
    static func fromSidecar(_ data: Data, path: String) throws -> ReaderModelConfiguration {
        if let flat = try? JSONDecoder().decode(ReaderModelConfiguration.self, from: data) { return flat }
        do {
            let s = try JSONDecoder().decode(TrainingSidecar.self, from: data)
            guard s.input.shape.count == 4, let alphabet = s.alphabet else {
                throw ModelConfigurationError("input.shape must be [1, C, H, W] and alphabet present")
            }
            let grey = s.input.shape[1] == 1 || s.input.channels == "grey"
            return ReaderModelConfiguration(format: .ctc, inputWidth: s.input.shape[3], inputHeight: s.input.shape[2],
                                            colorMode: grey ? "grey" : "bgr", alphabet: alphabet, blank: s.blank_index ?? 0)
        } catch {
            throw ModelError.mismatch(path, "not a reader description: \(error)")
        }
    }
}
