import Testing
import Foundation
import PlateCore
@testable import platestream

@Suite struct ConfigTests {
    func parse(_ json: String) throws -> AppConfig { try AppConfig.parse(Data(json.utf8), source: "test.json") }

    func problems(_ json: String) -> String {
        do { _ = try parse(json); return "" } catch { return "\(error)" }
    }

    @Test func theRepositoryConfigIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try AppConfig.load(path: root.appendingPathComponent("config.json").path)
        #expect(!config.resolvedCameras.isEmpty)
    }

    @Test func cameraSettingsOverrideDefaultsWhichOverrideBuiltIns() throws {
        let c = try parse("""
        {"defaults": {"sample": 3, "regions": ["br"], "memory_decay": 60},
         "cameras": [{"id": "a", "url": "a.mp4", "sample": 1},
                     {"id": "b", "url": "rtsp://u:p@cam/s", "regions": ["us-ca"], "region_config": "strict"},
                     {"id": "off", "url": "x.mp4", "active": false}]}
        """)
        let cams = c.resolvedCameras
        #expect(cams.map(\.id) == ["a", "b"])
        #expect(cams[0].settings.sample == 1 && cams[0].settings.regions == ["br"] && cams[0].settings.memoryDecay == 60)
        #expect(cams[1].settings.sample == 3 && cams[1].settings.regions == ["us-ca"])
        #expect(cams[1].settings.maxPredictionDelay == 6)               // built-in default
        #expect(cams[1].settings.recognitionOptions.regionStrict)
        #expect(!cams[0].settings.recognitionOptions.regionStrict)
    }

    @Test func everyMistakeIsReportedWithItsPath() {
        let text = problems("""
        {"cameras": [{"id": "a", "url": "a.mp4", "sample": "two", "detection_mode": "car", "colour": 1},
                     {"url": "b.mp4", "max_prediction_delay": 0}],
         "http": {"port": 8080}, "bogus": true}
        """)
        #expect(text.contains("$.cameras[0].sample: expected an integer, got \"two\""))
        #expect(text.contains("$.cameras[0].detection_mode: expected one of \"plate\", \"vehicle\", got \"car\""))
        #expect(text.contains("$.cameras[0].colour: unknown key"))
        #expect(text.contains("$.cameras[1]: missing required key \"id\""))
        #expect(text.contains("$.cameras[1].max_prediction_delay: expected a value > 0"))
        #expect(text.contains("$.bogus: unknown key"))
    }

    @Test func semanticChecksAndTypesOfScalars() {
        #expect(problems(#"{"cameras": [{"id": "a", "url": "x"}, {"id": "a", "url": "y"}]}"#).contains("duplicate camera id"))
        #expect(problems(#"{"defaults": {"timezone": "Mars/Olympus"}}"#).contains("unknown time zone"))
        #expect(problems(#"{"defaults": {"mmc": 1}}"#).contains("$.defaults.mmc: expected a boolean, got 1"))
        #expect(problems(#"{"defaults": {"sample": true}}"#).contains("expected an integer, got true"))
        #expect(problems(#"{"defaults": {"threshold_d": 0}}"#).isEmpty)
        #expect(problems("{not json").contains("not valid JSON"))
    }
}

@Suite struct BringYourOwnModelTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    func config(detectorFormat: String) throws -> AppConfig {
        try AppConfig.parse(Data("""
        {"recognizer": {"workers": 1,
          "detector": {"path": "\(Self.fixtures)/yolo-like.onnx", "format": "\(detectorFormat)", "input_width": 64, "input_height": 64},
          "reader": {"path": "\(Self.fixtures)/fpo-like.onnx"}}}
        """.utf8), source: "byo.json")
    }

    @Test func configNamedYoloAndFastPlateOCRModelsRun() throws {
        let recognizer = try ModelOptions.parse([]).makeRecognizer(section: try config(detectorFormat: "yolov8").recognizer)
        let image = Image(width: 160, height: 120, format: .bgr24)
        memset(image.buffer.bytes, 180, image.buffer.count)
        var options = RecognitionOptions()
        options.detectionThreshold = 0
        options.readThreshold = 0
        let result = try recognizer.recognize(image, options: options)
        #expect(result.imageSize == ImageSize(width: 160, height: 120))
        #expect(result.plates.allSatisfy { $0.text.count <= 7 })        // the fast-plate-ocr fixture has 7 slots
    }

    @Test func aModelThatDoesNotFitItsFormatFailsAtStartUp() throws {
        do {
            _ = try ModelOptions.parse([]).makeRecognizer(section: try config(detectorFormat: "platestream").recognizer)
            Issue.record("a YOLO model loaded as the platestream format")
        } catch {
            #expect("\(error)".contains("yolo-like.onnx") && "\(error)".contains("[1, 5, 84]"))
        }
    }

    @Test func theShapePriorIsOnUnlessTheConfigTurnsItOff() throws {
        let models = ["--models", DecodeHarness.repositoryRoot.appendingPathComponent("Models").path]
        var seen: [Bool] = []
        for text in [#"{"recognizer": {"workers": 1}}"#, #"{"recognizer": {"workers": 1, "shape_prior": true}}"#,
                     #"{"recognizer": {"workers": 1, "shape_prior": false}}"#] {
            let config = try AppConfig.parse(Data(text.utf8), source: "shape.json")
            _ = try ModelOptions.parse(models).makeRecognizer(section: config.recognizer) { seen.append($0.shapePrior != nil) }
        }
        #expect(seen == [true, true, false])
        #expect(throws: (any Error).self) {
            try AppConfig.parse(Data(#"{"recognizer": {"shape_prior": "no"}}"#.utf8), source: "bad.json")
        }
    }

    @Test func aConfiguredVehicleModelGivesTypedColouredVehicles() throws {
        let config = try AppConfig.parse(Data("""
        {"recognizer": {"workers": 1,
          "vehicle_detector": {"path": "\(Self.fixtures)/yolo-like.onnx", "input_width": 64, "input_height": 64, "labels": ["truck"]}}}
        """.utf8), source: "vehicles.json")
        let recognizer = try ModelOptions.parse(["--models", DecodeHarness.repositoryRoot.appendingPathComponent("Models").path])
            .makeRecognizer(section: config.recognizer)
        let image = Image(width: 160, height: 120, format: .bgr24)
        for i in 0..<(image.height * image.stride / 3) {                 // a red picture (BGR)
            image.buffer.bytes.storeBytes(of: 30, toByteOffset: i * 3, as: UInt8.self)
            image.buffer.bytes.storeBytes(of: 30, toByteOffset: i * 3 + 1, as: UInt8.self)
            image.buffer.bytes.storeBytes(of: 200, toByteOffset: i * 3 + 2, as: UInt8.self)
        }
        let result = try recognizer.recognize(image, options: RecognitionOptions())
        #expect(!result.vehicles.isEmpty)
        #expect(result.vehicles.allSatisfy { $0.type == .truck && $0.color.first?.label == "red" })
        // Two labels for a one-class model: the mismatch stops start-up.
        let coco = try AppConfig.parse(Data("""
        {"recognizer": {"workers": 1,
          "vehicle_detector": {"path": "\(Self.fixtures)/yolo-like.onnx", "input_width": 64, "input_height": 64, "labels": ["car", "bus"]}}}
        """.utf8), source: "two.json")
        do {
            _ = try ModelOptions.parse(["--models", DecodeHarness.repositoryRoot.appendingPathComponent("Models").path])
                .makeRecognizer(section: coco.recognizer)
            Issue.record("a two-label configuration loaded a one-class model")
        } catch {
            #expect("\(error)".contains("yolo-like.onnx"))              // the mismatch is named at start-up
        }
    }
}
