import Foundation
public import PlateCore

/// Where the recognizer's models are and how to use them.
public struct RecognizerConfiguration: Sendable {
    /// Plate detector file and its configuration.
    public var detector: (path: String, configuration: DetectorModelConfiguration)
    /// Plate reader file and its configuration.
    public var reader: (path: String, configuration: ReaderModelConfiguration)
    /// Number of independent model instances, i.e. how many images can be recognized at once
    /// (nil in the initializers: one per core).
    public var workers: Int
    /// Margin added around each plate before reading, as a fraction of its size.
    public var cropMargin: Double
    /// A vehicle detector (YOLO-style, COCO classes or any labels naming car/truck/bus/motorcycle); nil: none,
    /// and vehicles come from the stream's motion detector where one runs.
    public var vehicleDetector: (path: String, configuration: DetectorModelConfiguration)?
    /// Score a vehicle detection needs.
    public var vehicleThreshold: Double = 0.35
    /// Whether each plate found in a big picture is looked at again, in a window two plates wide cut from
    /// the full-resolution image: the first pass sees a small plate at a few dozen pixels, and its box and
    /// corners are then too rough for the reader.
    public var refineDetections: Bool = true
    /// With the second look, the first pass proposes boxes down to this fraction of its score floor; those
    /// below the floor count only when the second look confirms them.
    public var proposalFactor: Double = 0.5
    /// The second look at small plates and faint proposals runs this model when there is one (the refiner's weights at
    /// 224×128, `plate-refiner-224x128`: 58 % of a 224×224 look's time; the window is cut in its proportions). The close
    /// look at large plates keeps the square refiner: at 224×128 it lost Brazilian reads (Models/ocr/README.md,
    /// "Session 17"). nil: the refiner for both looks.
    public var secondLookRefiner: (path: String, configuration: DetectorModelConfiguration)?
    /// Plates at least this wide (pixels of the first pass's input) get the close look rather than the second
    /// look, unless they are faint proposals: the first pass has found them, and only their box may be off.
    public var secondLookBelowWidth: Double = 60
    /// The close look at plates the first pass saw large: the second-look model on a window this many times the
    /// plate's size (the larger of its width and twice its height). The first pass sees a 720p frame at 0.4x, and
    /// its boxes are loose or shifted often enough to cost reads (on the US dev set a fifth overlapped the plate by
    /// less than half; after the close look, 8 of 104); the close look at ~1.3x places them better (US dev: 6
    /// plates more read, 2 fewer, where it kept only one half of a plate split by a state emblem). nil: none.
    public var closeLookWindow: Double? = 1.3
    /// The close or second look also runs on a window this many times the first pass's box (the larger of its
    /// width and twice its height), and the strongest detection of both windows wins. A first-pass box that took
    /// in a lamp or the bumper's recess beside the plate is up to three times too wide; the window around it is
    /// then so large that the plate is small in it, and the look boxes the recess again. In the tighter window
    /// the look sees the plate large and boxes it alone. With `tightLookBelowScore`, US dev: mean IoU with the
    /// labelled boxes 0.708 -> 0.725, plates under 0.5 IoU 13 -> 9, exact 77.0 -> 78.8 %; eu and br the same.
    /// nil: one window only.
    public var tightLookWindow: Double? = 1.15
    /// The tighter window is looked through only when the look's own window found the plate with a score under
    /// this: a plate boxed surely needs no second placement, and br's large plates mostly are (br median 45 -> 39 ms
    /// on one core against always looking twice, which read one more us plate and one fewer br plate).
    public var tightLookBelowScore: Double = 0.9
    /// The second look's score a faint proposal needs.
    public var confirmationScore: Double = 0.75
    /// Faint proposals looked at per image, strongest first (each costs a second look).
    public var maxProposals: Int = 2
    /// The detector the second look uses: the same network exported at a small input size (the window holds a
    /// plate half its width, so 224 px puts ~110 px on the plate); nil: the main detector.
    public var refiner: (path: String, configuration: DetectorModelConfiguration)?
    /// The detector exported at other input shapes (`plate-detector-512x288` for 16:9 frames, `-512x384` for
    /// 4:3): for each picture the first pass uses the smallest input that holds it at no less than 95 % of
    /// the main detector's scale (never asking for more than the picture's own size), so no work goes into
    /// the letterbox's padding (a 16:9 frame in a square input is 44 % padding).
    public var shapedDetectors: [(path: String, configuration: DetectorModelConfiguration)] = []
    /// Fewest characters a read must have (OpenALPR's `postprocess_min_characters`): one or two characters
    /// are far more often a sticker, a bolt or a fragment of text than a plate.
    public var minimumCharacters: Int = 4
    /// Crops read from each plate outside `mode: fast` (margins as fractions of the plate's width and height,
    /// beside the standard `cropMargin` one); the text most of them read wins. A box a few pixels off cuts a
    /// character or shows a frame's edge as one; reading it tight, standard and loose and voting fixes much of
    /// that (reader alone on the labelled US boxes: 74 → 80 % exact).
    public var extraCrops: [(x: Double, y: Double)] = [(0, 0), (0.10, 0.15)]
    /// A first read whose every character has at least this probability and that fits a template is kept without
    /// reading the extra crops (nil: always vote). At 0.9 not one dev-set read changed (us, eu, br, br_crops), and
    /// a plate costs one read instead of two or three.
    public var sureReadScore: Double? = 0.9
    /// How much larger the tiles of the search in a picture where nothing was read show it than the full-picture
    /// pass did (`RecognitionOptions.searchWhenEmpty`); the search is skipped when that would enlarge the
    /// picture past its own pixels. nil: never search.
    public var tiledSearchScale: Double? = 1.75
    /// When the options name search areas (a camera's motion gate: what moved, and around live tracks), the first
    /// pass runs on at most this many windows over them instead of the whole picture: the second-look model at
    /// the first pass's scale, each window its input size (224 px: a third of a 512x288 pass). Areas that need
    /// more windows, or windows that would cost as much as the whole pass, get the whole pass. 0: never.
    public var maxSearchWindows: Int = 2
    /// A plate whose box the close or second look moved so that it overlaps the first pass's box by less than this
    /// (IoU) is also read through the first pass's box when its crops do not agree at once (us dev: +1 plate,
    /// br +1, eu the same).
    public var firstLookVoteBelowIoU: Double = 0.9
    /// The tiles' strongest detections each get a second look to confirm them (as faint proposals do).
    public var maxTiledProposals: Int = 3
    /// Maps each plate's voted score to the probability that it is right, before `threshold_o` is applied
    /// (`ScoreCalibration.bundled(in:)`, opt-in: fitted on synthetic plates, it holds for the US dev set and not for
    /// the Brazilian ones; see Models/ocr/README.md); nil: the raw score.
    public var scoreCalibration: ScoreCalibration?

    /// The plate-look model (`Models/region/plate-look.onnx`): without hints, the template prior weighs regions by
    /// what the plate's look says (`PlateLookClassifier`), in place of `shapePrior`; nil: the shape prior decides.
    public var look: (path: String, configuration: PlateLookClassifier.Configuration)?
    /// Without hints, a plate whose look (or shape) gives one family at least this probability is read as if that
    /// family had been hinted: its formats and lengths decide, as the user's `regions` would.
    public var sureFamilyAbove: Double = 0.8
    /// Without hints and without a look model, the plate's proportions weigh the regions (`PlateShapePrior`); nil:
    /// every region alike.
    public var shapePrior: PlateShapePrior? = PlateShapePrior()

    /// Creates a configuration.
    public init(detector: (path: String, configuration: DetectorModelConfiguration),
                reader: (path: String, configuration: ReaderModelConfiguration),
                workers: Int? = nil, cropMargin: Double = 0.06) {
        self.detector = detector
        self.reader = reader
        self.workers = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
        self.cropMargin = cropMargin
    }

    /// Loads `<name>.onnx` + `<name>.json` sidecars for the detector and reader from a models folder
    /// laid out as the repository's `Models/` (`detector/plate-detector.*`, `ocr/plate-reader.*`).
    public static func bundled(in modelsDirectory: String, workers: Int? = nil) throws -> RecognizerConfiguration {
        func load(_ path: String) throws -> Data {
            guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.missing(path) }
            return data
        }
        let folder = (modelsDirectory as NSString).appendingPathComponent("detector")
        func detector(_ name: String) throws -> (path: String, configuration: DetectorModelConfiguration) {
            let base = (folder as NSString).appendingPathComponent(name)
            return (base + ".onnx", try DetectorModelConfiguration.fromSidecar(load(base + ".json"), path: base + ".json"))
        }
        let r = (modelsDirectory as NSString).appendingPathComponent("ocr/plate-reader")
        var configuration = RecognizerConfiguration(
            detector: try detector("plate-detector"),
            reader: (r + ".onnx", try ReaderModelConfiguration.fromSidecar(load(r + ".json"), path: r + ".json")),
            workers: workers)
        if FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("plate-refiner.onnx")) {
            configuration.refiner = try detector("plate-refiner")
            if FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("plate-refiner-224x128.onnx")) {
                configuration.secondLookRefiner = try detector("plate-refiner-224x128")
            }
        }
        let shaped = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            $0.hasPrefix("plate-detector-") && $0.hasSuffix(".onnx") && $0.dropFirst(15).dropLast(5).split(separator: "x").count == 2
        }.sorted()
        configuration.shapedDetectors = try shaped.map { try detector(String($0.dropLast(5))) }
        let look = (modelsDirectory as NSString).appendingPathComponent("region/plate-look")
        if FileManager.default.fileExists(atPath: look + ".onnx") {
            configuration.look = (look + ".onnx", try JSONDecoder().decode(PlateLookClassifier.Configuration.self, from: load(look + ".json")))
        }
        return configuration
    }
}
