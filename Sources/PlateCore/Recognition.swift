public import Foundation

/// One object found by a detector model: where, how sure, and which class.
public struct Detection: Hashable, Sendable {
    /// Where the object is, in pixels of the image given to the detector.
    public var box: BoundingBox
    /// Detection confidence, 0...1.
    public var score: Double
    /// Index of the class in the model's label list.
    public var classIndex: Int
    /// Name of the class, e.g. `plate`, `car`, `truck`.
    public var label: String

    /// Creates a detection.
    public init(box: BoundingBox, score: Double, classIndex: Int, label: String) {
        self.box = box
        self.score = score
        self.classIndex = classIndex
        self.label = label
    }
}

/// Helpers for plate text.
public enum PlateText {
    /// The canonical form PlateStream keeps internally: letters and digits only, upper-cased
    /// (`"ab-12 3"` → `"AB123"`). Plate Recognizer's JSON wants lower case; the encoders do that.
    public static func canonical(_ text: String) -> String {
        String(text.uppercased().filter { $0.isLetter || $0.isNumber })
    }

    /// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
    /// that turn `a` into `b`.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// One reading of a plate's text with its confidence, as an OCR model's top-N list holds them.
public struct PlateCandidate: Hashable, Sendable {
    /// The text in canonical form (see `PlateText.canonical`).
    public var text: String
    /// Confidence of the whole string, 0...1.
    public var score: Double
    /// Confidence of each character, 0...1; empty when the reader does not give them.
    public var characterScores: [Double]

    /// A candidate; `text` is stored in canonical form.
    public init(text: String, score: Double, characterScores: [Double] = []) {
        self.text = PlateText.canonical(text)
        self.score = score
        self.characterScores = characterScores
    }
}

/// A guess of the region (country or state) a plate comes from, e.g. `us-ca`, `gb`.
public struct RegionGuess: Hashable, Sendable {
    /// Region code from Plate Recognizer's country list, lower case (`us-pa`).
    public var code: String
    /// Confidence, 0...1.
    public var score: Double

    /// A region guess.
    public init(code: String, score: Double) {
        self.code = code
        self.score = score
    }

    /// What the APIs write for a read that carries no guess (only a recognizer that guesses no regions gives one; the
    /// bundled one always guesses): Plate Recognizer always answers `region {code, score}`, and clients read
    /// `region.code` unguarded, so the answer is the country `us` with a score of 0, i.e. not known at all.
    public static let unknown = RegionGuess(code: "us", score: 0)
}

/// A label with a confidence, e.g. a colour (`white`, 0.887) or an orientation (`Front`, 0.925).
public struct ScoredLabel: Hashable, Sendable {
    /// The label.
    public var label: String
    /// Confidence, 0...1.
    public var score: Double

    /// A scored label.
    public init(_ label: String, score: Double) {
        self.label = label
        self.score = score
    }
}

/// A guess of a vehicle's make and model.
public struct MakeModelGuess: Hashable, Sendable {
    /// Manufacturer, e.g. `Chrysler`.
    public var make: String
    /// Model, e.g. `Pacifica`.
    public var model: String
    /// Confidence, 0...1.
    public var score: Double

    /// A make-and-model guess.
    public init(make: String, model: String, score: Double) {
        self.make = make
        self.model = model
        self.score = score
    }
}

/// Everything read from one plate in one frame: where it is, its text and how sure we are.
public struct PlateRead: Hashable, Sendable {
    /// The top reading, canonical (upper case, letters and digits).
    public var text: String
    /// Confidence of the top reading, 0...1 (Plate Recognizer's `score`).
    public var score: Double
    /// Confidence of each character of `text`; empty when the reader does not give them.
    public var characterScores: [Double]
    /// The reader's top-N readings, best first; the first is always `text`.
    public var candidates: [PlateCandidate]
    /// The region the plate comes from (the bundled recognizer always guesses one; see `RegionGuess.unknown`).
    public var region: RegionGuess?
    /// Whether `text` matches a pattern of one of the configured regions.
    public var matchesTemplate: Bool
    /// Confidence of the plate detection, 0...1 (Plate Recognizer's `dscore`).
    public var detectionScore: Double
    /// Where the plate is in the frame.
    public var box: BoundingBox
    /// The plate's corners, when the detector finds them.
    public var corners: Quad?
    /// Kind of plate, when known (Plate Recognizer writes `Plate`).
    public var plateType: String?
    /// Background colour of the plate, when estimated.
    public var color: String?

    /// Creates a read. `text` is stored canonical; when `candidates` does not start with it, the
    /// top reading is put first so that `candidates[0]` always is the top prediction.
    public init(text: String, score: Double, characterScores: [Double] = [],
                candidates: [PlateCandidate] = [], region: RegionGuess? = nil, matchesTemplate: Bool = false,
                detectionScore: Double, box: BoundingBox, corners: Quad? = nil,
                plateType: String? = nil, color: String? = nil) {
        let top = PlateCandidate(text: text, score: score, characterScores: characterScores)
        self.text = top.text
        self.score = score
        self.characterScores = characterScores
        self.candidates = candidates.first?.text == top.text ? candidates : [top] + candidates.filter { $0.text != top.text }
        self.region = region
        self.matchesTemplate = matchesTemplate
        self.detectionScore = detectionScore
        self.box = box
        self.corners = corners
        self.plateType = plateType
        self.color = color
    }
}

/// The kinds of vehicle PlateStream's detector tells apart.
public enum VehicleType: String, Hashable, Sendable, CaseIterable {
    /// Passenger car (sedan, SUV, van).
    case car
    /// Lorry or pickup.
    case truck
    /// Bus or coach.
    case bus
    /// Motorcycle or scooter.
    case motorcycle
    /// A vehicle of unknown kind.
    case unknown

    /// The name Plate Recognizer's JSON uses. Its vocabulary is finer (Sedan, SUV, Van, Pickup Truck,
    /// Big Truck, ...) than our detector's; each of our kinds maps to its most common member.
    public var plateRecognizerName: String {
        switch self {
        case .car: "Sedan"
        case .truck: "Big Truck"
        case .bus: "Bus"
        case .motorcycle: "Motorcycle"
        case .unknown: "Unknown"
        }
    }

    /// The kind a detector's class label stands for (COCO's `car`, `truck`, `bus`, `motorcycle`, and common
    /// synonyms); nil for labels that are no vehicle (`person`, `bicycle`, ...).
    public init?(label: String) {
        switch label.lowercased().trimmingCharacters(in: .whitespaces) {
        case "car", "sedan", "suv", "van", "minivan", "taxi", "vehicle": self = .car
        case "truck", "lorry", "pickup", "pickup truck", "big truck", "trailer": self = .truck
        case "bus", "coach", "minibus": self = .bus
        case "motorcycle", "motorbike", "scooter", "moped": self = .motorcycle
        default: return nil
        }
    }

    /// The kind for one of Plate Recognizer's names; unknown names give `.unknown`.
    public init(plateRecognizerName name: String) {
        switch name.lowercased() {
        case "sedan", "suv", "van": self = .car
        case "big truck", "pickup truck": self = .truck
        case "bus": self = .bus
        case "motorcycle": self = .motorcycle
        default: self = .unknown
        }
    }
}

/// One vehicle found in one frame, with whatever properties were estimated.
public struct VehicleDetection: Hashable, Sendable {
    /// What kind of vehicle.
    public var type: VehicleType
    /// Detection confidence, 0...1.
    public var score: Double
    /// Where the vehicle is in the frame.
    public var box: BoundingBox
    /// Colour estimates, best first (`white`, `silver`, ...); empty when not estimated.
    public var color: [ScoredLabel]
    /// Make and model estimates, best first; empty when not estimated.
    public var makeModel: [MakeModelGuess]
    /// Orientation estimates (`Front`, `Rear`, `Unknown`), best first; empty when not estimated.
    public var orientation: [ScoredLabel]

    /// Creates a vehicle detection.
    public init(type: VehicleType, score: Double, box: BoundingBox, color: [ScoredLabel] = [],
                makeModel: [MakeModelGuess] = [], orientation: [ScoredLabel] = []) {
        self.type = type
        self.score = score
        self.box = box
        self.color = color
        self.makeModel = makeModel
        self.orientation = orientation
    }
}

/// What the recognizer found in one frame of one camera: the tracker's input.
public struct Observation: Hashable, Sendable {
    /// The camera the frame came from.
    public var cameraID: CameraID
    /// Index of the frame in its source (see `Frame.index`).
    public var frameIndex: Int
    /// Position of the frame on the media timeline; the tracker's only clock.
    public var mediaTime: MediaTime
    /// Wall-clock time the frame was decoded; copied into events, never used for timing.
    public var wallClock: Date
    /// Size of the frame the boxes refer to.
    public var imageSize: ImageSize
    /// Plates read in the frame (already filtered).
    public var plates: [PlateRead]
    /// Vehicles found in the frame.
    public var vehicles: [VehicleDetection]

    /// Creates an observation. A frame in which nothing was found is still an observation:
    /// it tells the tracker that time has passed.
    public init(cameraID: CameraID, frameIndex: Int, mediaTime: MediaTime, wallClock: Date,
                imageSize: ImageSize, plates: [PlateRead] = [], vehicles: [VehicleDetection] = []) {
        self.cameraID = cameraID
        self.frameIndex = frameIndex
        self.mediaTime = mediaTime
        self.wallClock = wallClock
        self.imageSize = imageSize
        self.plates = plates
        self.vehicles = vehicles
    }
}
