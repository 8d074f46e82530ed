import Foundation
import Testing
@testable import PlateCore

/// The "Version 2 of the JSON Output" example of the reference (platerecognizer-snapshot-stream-api.md,
/// section "Vehicle Without Plates"), verbatim.
private let referenceVersion2 = #"""
[
    {
        "camera_id": "camera-1",
        "filename": "09-53-36.169692.jpg",
        "timestamp": "2021-07-31T13:53:36.169692Z",
        "timestamp_local": "2021-07-31 09:53:36.169692-04:00",
        "results": [
            {
                "plate": {
                    "type": "Plate",
                    "score": 0.888,
                    "box": {
                        "xmin": 49,
                        "ymin": 455,
                        "xmax": 116,
                        "ymax": 491
                    },
                    "props": {
                        "plate": [
                            {
                                "value": "hdb167a",
                                "score": 0.908
                            }
                        ],
                        "region": [
                            {
                                "value": "us-pa",
                                "score": 0.079
                            }
                        ]
                    }
                },
                "vehicle": {
                    "type": "Sedan",
                    "score": 0.688,
                    "box": {
                        "xmin": 1,
                        "ymin": 171,
                        "xmax": 290,
                        "ymax": 548
                    },
                    "props": {
                        "make_model": [
                            {
                                "make": "Chrysler",
                                "model": "200",
                                "score": 0.037
                            },
                            {
                                "make": "Chrysler",
                                "model": "Pacifica (minivan)",
                                "score": 0.024
                            },
                            {
                                "make": "Chrysler",
                                "model": "Pacifica",
                                "score": 0.021
                            }
                        ],
                        "orientation": [
                            {
                                "value": "Front",
                                "score": 0.925
                            },
                            {
                                "value": "Rear",
                                "score": 0.041
                            },
                            {
                                "value": "Unknown",
                                "score": 0.034
                            }
                        ],
                        "color": [
                            {
                                "value": "white",
                                "score": 0.887
                            },
                            {
                                "value": "silver",
                                "score": 0.027
                            },
                            {
                                "value": "black",
                                "score": 0.014
                            }
                        ]
                    }
                },
                "direction": 345,
                "source_url": "/user-data/video.mp4",
                "position_sec": 11.14
            }
        ]
    }
]
"""#

@Suite struct StreamEventJSONTests {
    /// The event the reference example describes, as the tracker would make it.
    private func referenceEvent() -> TrackEvent {
        let bestRead = PlateRead(
            text: "HDB167A", score: 0.908, region: RegionGuess(code: "us-pa", score: 0.079),
            detectionScore: 0.888, box: BoundingBox(xmin: 49, ymin: 455, xmax: 116, ymax: 491))
        let vehicle = VehicleDetection(
            type: .car, score: 0.688, box: BoundingBox(xmin: 1, ymin: 171, xmax: 290, ymax: 548),
            color: [ScoredLabel("white", score: 0.887), ScoredLabel("silver", score: 0.027), ScoredLabel("black", score: 0.014)],
            makeModel: [MakeModelGuess(make: "Chrysler", model: "200", score: 0.037),
                        MakeModelGuess(make: "Chrysler", model: "Pacifica (minivan)", score: 0.024),
                        MakeModelGuess(make: "Chrysler", model: "Pacifica", score: 0.021)],
            orientation: [ScoredLabel("Front", score: 0.925), ScoredLabel("Rear", score: 0.041), ScoredLabel("Unknown", score: 0.034)])
        return TrackEvent(
            trackID: TrackID(1), cameraID: "camera-1",
            plate: PlateConsensus(text: "HDB167A", score: 0.908, candidates: [PlateCandidate(text: "HDB167A", score: 0.908)],
                                  region: RegionGuess(code: "us-pa", score: 0.079), readCount: 5, bestRead: bestRead),
            vehicle: vehicle, direction: 345, bestFrameIndex: 278,
            bestFrameTime: MediaTime(value: 1114, timescale: 100),
            timestamp: Date(timeIntervalSince1970: 1_627_739_616.169692),
            imageSize: ImageSize(width: 1280, height: 720),
            firstSeen: MediaTime(seconds: 10), lastSeen: MediaTime(seconds: 12), frameCount: 50,
            reason: .trackEnded, sourceURL: "/user-data/video.mp4")
    }

    private let newYork = TimeZone(identifier: "America/New_York")!

    @Test func version2MatchesTheReferenceExampleCharacterForCharacter() {
        let event = StreamEventV2(event: referenceEvent(), filename: "09-53-36.169692.jpg", timeZone: newYork)
        // The reference shows a list of events printed with a 4-space indent.
        #expect(JSONValue.array([event.jsonValue]).serialized(indent: 4) == referenceVersion2)
    }

    @Test func version2DecodesTheReferenceAndEqualsOurs() throws {
        let decoded = try JSONDecoder().decode([StreamEventV2].self, from: Data(referenceVersion2.utf8))
        let ours = StreamEventV2(event: referenceEvent(), filename: "09-53-36.169692.jpg", timeZone: newYork)
        #expect(decoded == [ours])
    }

    @Test func version2ParsedStructureMatchesTheReference() throws {
        // Independent of our writer and decoder: Foundation's parser on both texts.
        let ours = StreamEventV2(event: referenceEvent(), filename: "09-53-36.169692.jpg", timeZone: newYork)
        let parsedOurs = try JSONSerialization.jsonObject(with: Data(JSONValue.array([ours.jsonValue]).serialized().utf8))
        let parsedReference = try JSONSerialization.jsonObject(with: Data(referenceVersion2.utf8))
        #expect((parsedOurs as? NSArray) == (parsedReference as? NSArray))
        let result = try #require(((parsedOurs as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first)
        #expect(result["direction"] as? Int == 345)
        #expect(result["position_sec"] as? Double == 11.14)
        #expect(((result["plate"] as? [String: Any])?["box"] as? [String: Any])?["xmin"] as? Int == 49)
    }

    @Test func aPlateWhoseReadsGuessedNoRegionStillCarriesOne() throws {
        // Clients read `props.region[0].value` / `region.code` unguarded: a track whose reads named no region reports
        // the documented fallback (`RegionGuess.unknown`, score 0) in both versions, never an empty list or null.
        var event = referenceEvent()
        event.plate?.region = nil
        let v2 = try JSONSerialization.jsonObject(with: Data(StreamEventV2(event: event, filename: nil, timeZone: newYork)
            .jsonValue.serialized().utf8)) as? [String: Any]
        let plate = try #require((v2?["results"] as? [[String: Any]])?.first?["plate"] as? [String: Any])
        let regions = try #require((plate["props"] as? [String: Any])?["region"] as? [[String: Any]])
        #expect(regions.count == 1)
        #expect(regions.first?["value"] as? String == RegionGuess.unknown.code)
        #expect(regions.first?["score"] as? Double == 0)
        let v1 = try #require(StreamEventV1(event: event, filename: nil, timeZone: newYork))
        #expect(v1.results.first?.region == StreamEventV1.Region(code: "us", score: 0))
        #expect(v1.jsonValue.serialized().contains(#""region":{"code":"us","score":0.0}"#))
    }

    @Test func vehicleWithoutPlateHasNullPlate() throws {
        var event = referenceEvent()
        event.plate = nil
        event.direction = nil
        let json = StreamEventV2(event: event, filename: nil, timeZone: TimeZone(identifier: "UTC")!).jsonValue.serialized()
        #expect(json.contains(#""results":[{"plate":null,"vehicle":{"type":"Sedan","#))
        #expect(json.contains(#""direction":null,"source_url":"/user-data/video.mp4","position_sec":11.14}]}"#))
        #expect(json.hasPrefix(#"{"camera_id":"camera-1","filename":null,"timestamp":"2021-07-31T13:53:36.169692Z","timestamp_local":"2021-07-31 13:53:36.169692+00:00","#))
        let decoded = try JSONDecoder().decode(StreamEventV2.self, from: Data(json.utf8))
        #expect(decoded.results.first?.plate == nil)
        #expect(decoded.results.first?.vehicle?.type == "Sedan")
        // JSONEncoder output (the Codable path) says the same, nulls included.
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded)) as? [String: Any]
        let item = try #require((encoded?["results"] as? [[String: Any]])?.first)
        #expect(item["plate"] is NSNull)
        #expect(item["direction"] is NSNull)
    }

    @Test func version1IsTheFlatSnapshotShape() throws {
        var event = referenceEvent()
        event.plate?.candidates.append(PlateCandidate(text: "HDB167", score: 0.1234))
        let v1 = try #require(StreamEventV1(event: event, filename: "x.jpg", timeZone: newYork))
        let expected = #"""
        {"camera_id":"camera-1","filename":"x.jpg","timestamp":"2021-07-31T13:53:36.169692Z","timestamp_local":"2021-07-31 09:53:36.169692-04:00","results":[{"box":{"xmin":49,"ymin":455,"xmax":116,"ymax":491},"plate":"hdb167a","region":{"code":"us-pa","score":0.079},"vehicle":{"score":0.688,"type":"Sedan","box":{"xmin":1,"ymin":171,"xmax":290,"ymax":548}},"score":0.908,"candidates":[{"score":0.908,"plate":"hdb167a"},{"score":0.123,"plate":"hdb167"}],"dscore":0.888,"model_make":[{"make":"Chrysler","model":"200","score":0.037},{"make":"Chrysler","model":"Pacifica (minivan)","score":0.024},{"make":"Chrysler","model":"Pacifica","score":0.021}],"color":[{"color":"white","score":0.887},{"color":"silver","score":0.027},{"color":"black","score":0.014}],"orientation":[{"orientation":"Front","score":0.925},{"orientation":"Rear","score":0.041},{"orientation":"Unknown","score":0.034}],"direction":345,"source_url":"/user-data/video.mp4","position_sec":11.14}]}
        """#
        #expect(v1.jsonValue.serialized() == expected)
        let decoded = try JSONDecoder().decode(StreamEventV1.self, from: Data(expected.utf8))
        #expect(decoded == v1)
    }

    @Test func version1WithoutVehicleOrMMC() throws {
        var event = referenceEvent()
        event.vehicle = nil
        let v1 = try #require(StreamEventV1(event: event, filename: nil, timeZone: newYork))
        let json = v1.jsonValue.serialized()
        #expect(json.contains(#""vehicle":{"score":0.0,"type":"Unknown","box":{"xmin":0,"ymin":0,"xmax":0,"ymax":0}},"#))
        #expect(!json.contains("model_make") && !json.contains("color") && !json.contains("orientation"))
        event.plate = nil
        #expect(StreamEventV1(event: event, filename: nil, timeZone: newYork) == nil)
    }

    @Test func timestamps() {
        let date = Date(timeIntervalSince1970: 1_627_739_616.169692)
        #expect(PlateRecognizerJSON.utcTimestamp(date) == "2021-07-31T13:53:36.169692Z")
        #expect(PlateRecognizerJSON.localTimestamp(date, timeZone: newYork) == "2021-07-31 09:53:36.169692-04:00")
        #expect(PlateRecognizerJSON.localTimestamp(date, timeZone: TimeZone(identifier: "Asia/Kolkata")!)
                == "2021-07-31 19:23:36.169692+05:30")
        // Winter: New York is 5 hours behind; the local date is the day before.
        let winter = Date(timeIntervalSince1970: 1_609_462_800.000_001)  // 2021-01-01T01:00:00.000001Z
        #expect(PlateRecognizerJSON.utcTimestamp(winter) == "2021-01-01T01:00:00.000001Z")
        #expect(PlateRecognizerJSON.localTimestamp(winter, timeZone: newYork) == "2020-12-31 20:00:00.000001-05:00")
        // Before 1970, and microseconds rounding up into the next second.
        #expect(PlateRecognizerJSON.utcTimestamp(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
        #expect(PlateRecognizerJSON.utcTimestamp(Date(timeIntervalSince1970: 59.9999999)) == "1970-01-01T00:01:00.000000Z")
        // Leap day.
        #expect(PlateRecognizerJSON.utcTimestamp(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000000Z")
    }

    @Test func jsonWriterEscapesAndFormats() {
        let value = JSONValue.object([
            ("s", .string("a\"b\\c\n\u{01}/é")),
            ("n", .number(0.1 + 0.2)),
            ("whole", .number(2)),
            ("int", .integer(-3)),
            ("nan", .number(.nan)),
            ("empty", .array([])),
            ("obj", .object([])),
            ("t", .bool(true)),
        ])
        #expect(value.serialized() == #"{"s":"a\"b\\c\n\u0001/é","n":0.30000000000000004,"whole":2.0,"int":-3,"nan":null,"empty":[],"obj":{},"t":true}"#)
        #expect(JSONValue.object([("a", .array([.integer(1)]))]).serialized(indent: 2) == "{\n  \"a\": [\n    1\n  ]\n}")
    }

    @Test func scoresAreRoundedToThreeDecimals() {
        #expect(PlateRecognizerJSON.rounded(0.90849) == 0.908)
        #expect(PlateRecognizerJSON.rounded(0.9085) == 0.909)
        #expect(PlateRecognizerJSON.Box(BoundingBox(xmin: 0.4, ymin: 0.6, xmax: 10.5, ymax: 11.49))
                == PlateRecognizerJSON.Box(xmin: 0, ymin: 1, xmax: 11, ymax: 11))
    }
}
