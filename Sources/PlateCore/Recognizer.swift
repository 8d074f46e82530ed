/// Engine settings for one recognition, named after Plate Recognizer's `config` keys and parameters.
public struct RecognitionOptions: Sendable, Equatable {
    /// How many detection passes to make (Plate Recognizer `mode`).
    public enum Mode: String, Sendable, CaseIterable {
        /// The default: a full-frame pass plus a second, finer pass over small plates.
        case normal
        /// Exactly one detection pass (`mode: fast`).
        case fast
        /// Lower detection threshold and more proposals: misses fewer plates, more false positives.
        case redaction
    }

    /// Region hints (`us-ca`, `br`, `us`, `eu`): candidates that fit them are preferred.
    public var regions: [String]
    /// Only keep reads that match a template of `regions` (`region: strict`).
    public var regionStrict: Bool
    /// Number of candidates to return per plate (1...1000).
    public var topN: Int
    /// Detection score threshold (`threshold_d`).
    public var detectionThreshold: Double
    /// Reading score threshold (`threshold_o`).
    public var readThreshold: Double
    /// Detection passes.
    public var mode: Mode
    /// Drop plates found outside every vehicle (`detection_rule: strict`).
    public var detectionRuleStrict: Bool
    /// Estimate vehicle make, model, orientation and colour (`mmc`).
    public var mmc: Bool
    /// The image is already a plate crop: read it whole, detect nothing (OpenALPR `is_cropped`).
    public var cropped: Bool
    /// When the full-picture pass reads no plate, search the picture again in overlapping tiles at a larger
    /// scale (a far plate is a couple of dozen pixels wide in the full-picture pass). Costs about four more
    /// detector passes on such a picture: on for snapshots (a picture sent to be read almost always holds a
    /// plate), off for camera streams (most frames hold none).
    public var searchWhenEmpty: Bool
    /// Where to look for plates, in the image's pixels; nil (the default) or empty: the whole picture. A camera's
    /// motion gate sets it to what moved and the area around its live tracks; a recognizer may then run its first
    /// pass on windows over these areas only, when a few windows cover them, and on the whole picture otherwise.
    public var searchAreas: [BoundingBox]?

    /// Options with Plate Recognizer's defaults.
    public init(regions: [String] = [], regionStrict: Bool = false, topN: Int = 10, detectionThreshold: Double = 0.2,
                readThreshold: Double = 0.6, mode: Mode = .normal, detectionRuleStrict: Bool = false,
                mmc: Bool = false, cropped: Bool = false, searchWhenEmpty: Bool = true, searchAreas: [BoundingBox]? = nil) {
        self.regions = regions
        self.regionStrict = regionStrict
        self.topN = topN
        self.detectionThreshold = detectionThreshold
        self.readThreshold = readThreshold
        self.mode = mode
        self.detectionRuleStrict = detectionRuleStrict
        self.mmc = mmc
        self.cropped = cropped
        self.searchWhenEmpty = searchWhenEmpty
        self.searchAreas = searchAreas
    }
}

/// What one recognition found in one image.
public struct RecognitionResult: Sendable {
    /// Size of the image the boxes refer to.
    public var imageSize: ImageSize
    /// Plates read, best detection first, after thresholds and region filtering.
    public var plates: [PlateRead]
    /// Vehicles found (empty when no vehicle detector runs).
    public var vehicles: [VehicleDetection]
    /// Milliseconds spent finding plates (and vehicles, where a vehicle model runs).
    public var detectMilliseconds: Double
    /// Milliseconds spent reading them.
    public var readMilliseconds: Double

    /// Creates a result.
    public init(imageSize: ImageSize, plates: [PlateRead], vehicles: [VehicleDetection] = [],
                detectMilliseconds: Double = 0, readMilliseconds: Double = 0) {
        self.imageSize = imageSize
        self.plates = plates
        self.vehicles = vehicles
        self.detectMilliseconds = detectMilliseconds
        self.readMilliseconds = readMilliseconds
    }

    /// The vehicle a plate belongs to: the smallest vehicle box containing the plate's centre.
    public func vehicle(for plate: PlateRead) -> VehicleDetection? {
        vehicles.filter { $0.box.contains(plate.box.center) }.min { $0.box.area < $1.box.area }
    }
}

/// Finds and reads every plate in a still image: what `platestream read`, the snapshot HTTP APIs and
/// the stream pipeline's recognition stage call. Safe to call from several threads at once.
public protocol PlateRecognizer: AnyObject, Sendable {
    /// Recognizes the plates in a BGR24 image. Throws only when a model fails, never for "no plate".
    func recognize(_ image: Image, options: RecognitionOptions) throws -> RecognitionResult
    /// The sizes the first detection pass sees pictures at, when it can take them already scaled; nil when not.
    var firstPassSizing: FirstPassSizing? { get }
    /// Recognizes the plates in `image`, given `scaled`, the same picture at `firstPassSizing`'s size (made by
    /// the decoder), for the first detection pass. A `scaled` picture of another size is not used.
    func recognize(_ image: Image, scaled: Image?, options: RecognitionOptions) throws -> RecognitionResult
}

extension PlateRecognizer {
    /// None: the recognizer scales pictures itself.
    public var firstPassSizing: FirstPassSizing? { nil }

    /// Ignores `scaled`.
    public func recognize(_ image: Image, scaled: Image?, options: RecognitionOptions) throws -> RecognitionResult {
        try recognize(image, options: options)
    }
}
