public import Foundation

/// Plate Recognizer's `config` parameter: `{"region":"strict","threshold_d":0.2,"threshold_o":0.6,
/// "mode":"fast","detection_rule":"strict"}`, parsed strictly: an unknown key or a bad value is an error
/// that names it, never silently ignored.
public struct EngineConfig: Sendable, Equatable {
    /// `region: strict`.
    public var regionStrict: Bool?
    /// `threshold_d`, 0...1.
    public var thresholdD: Double?
    /// `threshold_o`, 0...1.
    public var thresholdO: Double?
    /// `mode`.
    public var mode: RecognitionOptions.Mode?
    /// `detection_rule: strict`.
    public var detectionRuleStrict: Bool?

    /// An empty configuration (engine defaults).
    public init() {}

    /// Why a config value was refused.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        /// What is wrong, naming the key.
        public let description: String
    }

    /// Parses the JSON text; nil or empty text gives an empty configuration.
    public static func parse(_ text: String?) throws -> EngineConfig {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return EngineConfig() }
        // JSONDecoder, not JSONSerialization: it keeps true apart from 1, which NSNumber bridging does not.
        guard let object = try? JSONDecoder().decode([String: Scalar].self, from: Data(text.utf8)) else {
            throw ParseError(description: "config is not a JSON object of strings and numbers")
        }
        var c = EngineConfig()
        for (key, value) in object {
            switch key {
            case "region":
                guard case .string("strict") = value else { throw ParseError(description: "config.region must be \"strict\"") }
                c.regionStrict = true
            case "threshold_d", "threshold_o":
                guard case .number(let n) = value, (0...1).contains(n) else {
                    throw ParseError(description: "config.\(key) must be a number between 0 and 1")
                }
                if key == "threshold_d" { c.thresholdD = n } else { c.thresholdO = n }
            case "mode":
                guard case .string(let s) = value, let m = RecognitionOptions.Mode(rawValue: s), m != .normal else {
                    throw ParseError(description: "config.mode must be \"fast\" or \"redaction\"")
                }
                c.mode = m
            case "detection_rule":
                guard case .string("strict") = value else { throw ParseError(description: "config.detection_rule must be \"strict\"") }
                c.detectionRuleStrict = true
            default:
                throw ParseError(description: "unknown config key \"\(key)\" (known: region, threshold_d, threshold_o, mode, detection_rule)")
            }
        }
        return c
    }

    /// A JSON scalar as the config allows it.
    enum Scalar: Decodable {
        case string(String), number(Double), bool(Bool), other

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else { self = .other }
        }
    }

    /// The options with every key this configuration sets applied.
    public func apply(to options: RecognitionOptions) -> RecognitionOptions {
        var o = options
        if let regionStrict { o.regionStrict = regionStrict }
        if let thresholdD { o.detectionThreshold = thresholdD }
        if let thresholdO { o.readThreshold = thresholdO }
        if let mode { o.mode = mode }
        if let detectionRuleStrict { o.detectionRuleStrict = detectionRuleStrict }
        return o
    }
}
